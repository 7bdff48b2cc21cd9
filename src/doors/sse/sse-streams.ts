// Server-Sent Events: a room's frames as an HTTP response stream, for clients that only speak
// HTTP (EventSource). `event:` is the frame type, `data:` the frame's JSON, `id:` the seq on
// messages and the resume point on `subbed`, so a reconnecting EventSource resumes with
// Last-Event-ID exactly like `sub since`.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../../config.js';
import { ERRORS, type ErrorCode } from '../../core/errors.js';
import type { Actor } from '../../core/types.js';
import type { Hub } from '../../hub/hub.js';
import { Outgoing } from '../../hub/outgoing.js';
import type { Subscriber } from '../../hub/subscription.js';
import type { Metrics } from '../../metrics/metrics.js';
import { type ConnectionInfo, describeConnection } from '../connection-info.js';
import { CLOSE_WAIT_MS, Outbox } from '../outbox.js';

const HEARTBEAT = Buffer.from(': keep-alive\n\n');

/** One event: its type, its id if it has one, the frame's JSON. */
const sseEvent = (type: string, json: string, id?: number): Buffer =>
  Buffer.from(
    id === undefined ? `event: ${type}\ndata: ${json}\n\n` : `event: ${type}\nid: ${id}\ndata: ${json}\n\n`,
  );

const encodeForSse = (out: Outgoing): Buffer => sseEvent(out.frame.type, out.json, out.seq);

class SseStream implements Subscriber {
  readonly since = new Date().toISOString();
  readonly #outbox: Outbox;
  readonly #heartbeat: NodeJS.Timeout;
  readonly socket: Socket;
  #ended = false;

  constructor(
    readonly actor: Actor,
    readonly room: string,
    readonly res: ServerResponse,
    private readonly streams: SseStreams,
    /** The `since` asked for (Last-Event-ID or `?since=`), if any. */
    private readonly resumeFrom: number | undefined,
  ) {
    const { config, metrics } = streams.deps;
    const door = metrics.door('sse');
    this.socket = res.socket as Socket;
    this.#outbox = new Outbox(res, {
      door: 'sse',
      limit: config.sendBufferLimit,
      onOverflow: () => {
        door.slowConsumers.inc();
        // No close code in SSE: the stream ends, and EventSource reconnects with Last-Event-ID.
        this.end(undefined, undefined, config.slowConsumerGrace);
      },
      onWrite: (bytes, frames) => {
        door.bytesOut.inc(bytes);
        door.writes.inc();
        door.framesSent.inc(frames);
      },
    });
    this.#heartbeat = setInterval(() => this.#outbox.push(HEARTBEAT), config.sseHeartbeat);
    this.#heartbeat.unref();
  }

  get ended(): boolean {
    return this.#ended;
  }

  send(out: Outgoing): void {
    if (this.#ended) return;
    const f = out.frame;
    if (f.type === 'subbed') {
      // The resume point goes out as the first id: a stream dropped before its first message
      // (or during the replay) reconnects from here, not from the head at that later moment.
      const from = this.resumeFrom === undefined ? f.seq : Math.min(this.resumeFrom, f.seq);
      this.#outbox.push(sseEvent('subbed', out.json, from));
      return;
    }
    this.#outbox.push(out.encoded('sse', encodeForSse), out.journey);
    // The subscription is over (the room was deleted, or the user may no longer see it).
    if (f.type === 'room_deleted' || f.type === 'unsubbed') this.end();
  }

  drained(): Promise<void> | undefined {
    return this.#outbox.drained();
  }

  /**
   * Finish the response (after what is queued, and a last `error` event when there is a reason)
   * and forget the subscription.
   */
  end(code?: ErrorCode, message?: string, graceMs = CLOSE_WAIT_MS): void {
    if (this.#ended) return;
    if (code)
      this.send(
        new Outgoing({ type: 'error', code, message: message ?? ERRORS[code].title, room: this.room }),
      );
    this.#ended = true;
    clearInterval(this.#heartbeat);
    this.streams.deps.hub.drop(this);
    this.#outbox.flush();
    this.res.end();
    // A reader that has stopped reading never takes the end; let go of it after a grace period.
    setTimeout(() => this.res.destroy(), graceMs).unref();
  }

  closed(): void {
    if (!this.#ended) {
      this.#ended = true;
      clearInterval(this.#heartbeat);
      this.streams.deps.hub.drop(this);
    }
  }

  info(): ConnectionInfo {
    return describeConnection(this.socket, {
      user: this.actor.name,
      rooms: [this.room],
      unsent: this.#outbox.unsent,
      since: this.since,
    });
  }
}

export class SseStreams {
  readonly #streams = new Set<SseStream>();

  constructor(readonly deps: { readonly config: Config; readonly hub: Hub; readonly metrics: Metrics }) {}

  get size(): number {
    return this.#streams.size;
  }

  streams(): ConnectionInfo[] {
    return [...this.#streams].map((s) => s.info());
  }

  /**
   * Take over `res` (already authorized for `room`) as an event stream: headers (`extraHeaders`
   * too, such as CORS), then `subbed`,
   * the replay after `since`, and live events until either side ends it.
   */
  async open(
    res: ServerResponse,
    actor: Actor,
    room: string,
    since: number | undefined,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> {
    const { metrics, hub } = this.deps;
    res.writeHead(200, {
      ...extraHeaders,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Ask proxies (nginx) not to buffer the stream.
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.socket?.setNoDelay(true);
    // How long EventSource waits before reconnecting (ms).
    res.write('retry: 2000\n\n');
    const stream = new SseStream(actor, room, res, this, since);
    this.#streams.add(stream);
    metrics.door('sse').connections.inc();
    res.once('close', () => {
      this.#streams.delete(stream);
      metrics.door('sse').connections.dec();
      stream.closed();
    });
    try {
      await hub.subscribe(stream, room, since);
    } catch (err) {
      // Authorized a moment ago, gone now (deleted): end the stream with the reason.
      const code = (err as { code?: string }).code ?? 'internal';
      res.write(
        sseEvent(
          'error',
          JSON.stringify({ type: 'error', code, message: String((err as Error).message), room }),
        ),
      );
      stream.end();
    }
  }

  /**
   * End every stream (shutdown) with a last `error` event, code `unavailable`, as the TCP door
   * does; EventSource clients reconnect and resume elsewhere with Last-Event-ID.
   */
  close(): void {
    for (const s of this.#streams) {
      // One already ended (a slow consumer in its grace) does not hold up the shutdown.
      if (s.ended) s.res.destroy();
      else s.end('unavailable', 'The server is shutting down.');
    }
  }
}
