// Follow a room over SSE from Node or any fetch-capable runtime (browsers can also use their
// own EventSource): reconnects after a drop with Last-Event-ID, so nothing is missed or repeated.
import { type SseEvent, SseParser } from './sse-parser.js';

export interface SseFollowOptions {
  /** http://host:port */
  readonly server: string;
  readonly room: string;
  readonly token: string;
  readonly since?: number | undefined;
  readonly onEvent: (event: SseEvent) => void;
  readonly onStatus?: (status: 'connecting' | 'open' | 'reconnecting' | 'closed', detail?: string) => void;
}

export interface SseFollower {
  close(): void;
  /** Resolves when following stops for good (closed, or refused with a 4xx). */
  readonly done: Promise<void>;
}

export function followSse(options: SseFollowOptions): SseFollower {
  const abort = new AbortController();
  let lastEventId = options.since === undefined ? undefined : String(options.since);
  let retry = 2000;
  const done = (async () => {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      options.onStatus?.(attempt === 0 ? 'connecting' : 'reconnecting');
      try {
        const headers: Record<string, string> = {
          accept: 'text/event-stream',
          authorization: `Bearer ${options.token}`,
        };
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        const res = await fetch(`${options.server.replace(/\/+$/, '')}/v1/rooms/${options.room}/events`, {
          headers,
          signal: abort.signal,
        });
        if (res.status >= 400 && res.status < 500) {
          const body = await res.text();
          options.onStatus?.('closed', `${res.status} ${body}`);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        options.onStatus?.('open');
        const parser = new SseParser();
        const decoder = new TextDecoder();
        for await (const chunk of res.body) {
          for (const event of parser.push(decoder.decode(chunk, { stream: true }))) options.onEvent(event);
          if (parser.lastEventId !== undefined) lastEventId = parser.lastEventId;
          if (parser.retry !== undefined) retry = parser.retry;
        }
      } catch (err) {
        if (abort.signal.aborted) break;
        options.onStatus?.('reconnecting', String((err as Error).message ?? err));
      }
      await new Promise((r) => setTimeout(r, retry));
    }
    options.onStatus?.('closed');
  })();
  return { close: () => abort.abort(), done };
}
