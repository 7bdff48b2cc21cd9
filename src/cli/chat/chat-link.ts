// The chat's connection to the server, whichever door it goes through: the frame protocol over
// WebSocket or TCP (RealtimeClient: resume, pub retries with one ref), or plain HTTP (one SSE
// stream per room, resumed with Last-Event-ID, and posts and typing notices over REST).
import { ApiError, RestClient } from '../../client/rest.js';
import { type Frame, RealtimeClient } from '../../client/realtime.js';
import { followSse, type SseFollower } from '../../client/sse.js';
import { frameDoor } from '../realtime-commands.js';

export type ChatVia = 'ws' | 'tcp' | 'sse+http';
export const CHAT_VIAS: readonly ChatVia[] = ['ws', 'tcp', 'sse+http'];

export type LinkStatus = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface ChatLinkOptions {
  readonly server: string;
  readonly token: string;
  readonly via: ChatVia;
  /** The flags and environment that name the TCP door (--tcp, PORTHOUSE_TCP). */
  readonly values: Record<string, unknown>;
  readonly onFrame: (frame: Frame) => void;
  /** `detail` says why; a `closed` with a detail is the server ending it for good. */
  readonly onStatus: (status: LinkStatus, detail?: string) => void;
  /** Milliseconds a message may take to be acknowledged, retries included. */
  readonly pubTimeout?: number;
}

export interface ChatLink {
  /** Follow a room from after `since` (replayed first), then live. */
  follow(room: string, since: number): void;
  unfollow(room: string): void;
  /** Resolves with the seq once the message is stored; a retry never stores it twice. */
  publish(room: string, text: string): Promise<number>;
  /** A passing hint: failures are ignored. */
  typing(room: string): void;
  close(): void;
}

export function openChatLink(options: ChatLinkOptions): ChatLink {
  return options.via === 'sse+http' ? httpLink(options) : frameLink(options);
}

function frameLink(options: ChatLinkOptions): ChatLink {
  const door = frameDoor(options.via, options.values, options.server);
  const client = new RealtimeClient({
    url: door.url,
    token: options.token,
    connect: door.connect,
    onFrame: options.onFrame,
    onStatus: options.onStatus,
    pubTimeout: options.pubTimeout ?? 30_000,
  });
  client.ready().catch((err: Error) => options.onStatus('closed', err.message));
  return {
    follow: (room, since) => client.subscribe(room, since),
    unfollow: (room) => client.unsubscribe(room),
    publish: async (room, text) => (await client.publish(room, text)).seq,
    typing: (room) => client.typing(room),
    close: () => client.close(),
  };
}

/** Errors a retry with the same Idempotency-Key can get past: the network, or a node stopping. */
const retriable = (err: unknown): boolean =>
  err instanceof ApiError
    ? err.status === 503 || err.status === 502 || err.status === 504
    : (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'TypeError';

function httpLink(options: ChatLinkOptions): ChatLink {
  const rest = new RestClient({ server: options.server, token: options.token });
  const streams = new Map<string, SseFollower>();
  /** Per room, whether its stream is open: the link is ready when every stream is. */
  const open = new Map<string, boolean>();
  let lastStatus: LinkStatus | undefined;
  const report = (detail?: string) => {
    const all = [...open.values()];
    const status: LinkStatus =
      all.length > 0 && all.every(Boolean)
        ? 'ready'
        : lastStatus === undefined
          ? 'connecting'
          : 'reconnecting';
    if (status !== lastStatus || detail) options.onStatus(status, detail);
    lastStatus = status;
  };
  const pubTimeout = options.pubTimeout ?? 30_000;
  return {
    follow(room, since) {
      if (streams.has(room)) return;
      open.set(room, false);
      const follower = followSse({
        server: options.server,
        room,
        token: options.token,
        since,
        onEvent: (e) => {
          try {
            options.onFrame(JSON.parse(e.data) as Frame);
          } catch {
            // A comment or a malformed event: nothing to show.
          }
        },
        onStatus: (s, detail) => {
          if (s === 'open') open.set(room, true);
          else if (s === 'reconnecting') open.set(room, false);
          else if (s === 'closed') {
            streams.delete(room);
            open.delete(room);
            // Refused with a 4xx: a token no longer valid ends the chat; otherwise only this room's
            // stream is over (gone, or no longer ours to read).
            if (detail?.startsWith('401')) options.onStatus('closed', detail);
            else if (detail) options.onFrame({ type: 'error', code: 'stream_closed', message: detail, room });
          }
          if (s !== 'connecting') report(s === 'reconnecting' ? detail : undefined);
        },
      });
      streams.set(room, follower);
    },
    unfollow(room) {
      streams.get(room)?.close();
      streams.delete(room);
      open.delete(room);
    },
    async publish(room, text) {
      const deadline = Date.now() + pubTimeout;
      const stored = await rest.postRetrying(room, text, (err, attempt) =>
        retriable(err) && Date.now() <= deadline ? Math.min(5000, 250 * 2 ** (attempt - 1)) : undefined,
      );
      return stored.seq;
    },
    typing(room) {
      rest.request('POST', `/v1/rooms/${encodeURIComponent(room)}/typing`).catch(() => {});
    },
    close() {
      for (const s of streams.values()) s.close();
      streams.clear();
      open.clear();
      options.onStatus('closed');
    },
  };
}
