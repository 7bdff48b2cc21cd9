import { SseParser } from '../../src/client/sse-parser.js';

// An EventSource-style reader over fetch: parses the stream into events (type, id, data) as the
// WHATWG spec does, so tests see exactly what a browser's EventSource would.
export interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: any;
}

export interface SseClient {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[];
  /** Comment lines (heartbeats) received so far. */
  readonly comments: number;
  next(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream; rejects if it has not within `timeoutMs`. */
  ended(timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  let comments = 0;
  const waiters = new Set<() => void>();
  let done = false;
  const finished = (async () => {
    if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return;
    const decoder = new TextDecoder();
    const parser = new SseParser();
    try {
      for await (const chunk of res.body) {
        for (const e of parser.push(decoder.decode(chunk, { stream: true })))
          events.push({ event: e.event, id: e.id, data: JSON.parse(e.data) });
        comments = parser.comments;
        for (const w of [...waiters]) w();
      }
    } catch {
      // aborted
    }
    done = true;
    for (const w of [...waiters]) w();
  })();
  return {
    status: res.status,
    headers: res.headers,
    events,
    get comments() {
      return comments;
    },
    next: (match, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            finish();
            resolve(found);
          } else if (done) {
            finish();
            reject(new Error(`stream ended; events: ${JSON.stringify(events.slice(-5))}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`no matching event within ${timeoutMs} ms; last: ${JSON.stringify(events.slice(-5))}`),
          );
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    ended: (timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`stream not ended within ${timeoutMs} ms; last: ${JSON.stringify(events.slice(-5))}`),
            ),
          timeoutMs,
        );
        void finished.then(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    close: () => abort.abort(),
  };
}
