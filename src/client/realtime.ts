// The frame-protocol client over WebSocket: authenticate, follow rooms, publish with acks, and
// survive drops — it reconnects with backoff, resubscribes each room with the last seq it saw
// (so nothing is missed or repeated), and re-sends unacknowledged pubs with their ref (so
// nothing is stored twice). Browser-safe: give it the platform's WebSocket, or `ws` in Node.

import type { ClientFrame, ServerFrame } from '../protocol/frames.js';

/** A frame from the server, typed by its `type` (the protocol's schemas, docs/frames.md). */
export type Frame = ServerFrame;

/** The part of the WHATWG WebSocket this client uses (browsers and `ws` both have it). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface RealtimeOptions {
  /** ws://host:port/v1/ws */
  readonly url: string;
  readonly token: string;
  readonly connect: WebSocketFactory;
  /** Every frame received, after the client's own bookkeeping. */
  readonly onFrame?: (frame: Frame) => void;
  /** Connection state changes, for status lines. */
  readonly onStatus?: (status: 'connecting' | 'ready' | 'reconnecting' | 'closed', detail?: string) => void;
  /** Backoff bounds in ms (doubles from min to max, with jitter). */
  readonly backoffMin?: number;
  readonly backoffMax?: number;
  /** Milliseconds to wait for an ack before a pub fails (it is retried across reconnects until then). */
  readonly pubTimeout?: number;
}

interface PendingPub {
  readonly frame: ClientFrame & { ref: string };
  readonly resolve: (ack: { room: string; seq: number }) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Close codes after which reconnecting with the same token cannot help. */
const TERMINAL = new Set([4401, 4403, 1008]);

export class RealtimeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RealtimeError';
  }
}

let refCounter = 0;
/** A fresh pub ref: unique per client, so the server's (room, user, ref) window spots retries. */
export const newRef = (): string =>
  `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}-${++refCounter}`;

export class RealtimeClient {
  readonly #options: RealtimeOptions;
  #ws: WebSocketLike | undefined;
  #ready = false;
  #closed = false;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** room → last seq seen (what a resubscription asks to continue after). */
  readonly #rooms = new Map<string, number | undefined>();
  readonly #pubs = new Map<string, PendingPub>();
  readonly #pings = new Map<string, (rtt: number) => void>();
  readonly #readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(options: RealtimeOptions) {
    this.#options = options;
    this.#open();
  }

  /** Resolves once authenticated (the first time, or again after a reconnect). */
  ready(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    if (this.#closed) return Promise.reject(new RealtimeError('closed', 'The client is closed.'));
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** Follow a room; with `since`, everything after that seq is replayed first. */
  subscribe(room: string, since?: number): void {
    this.#rooms.set(room, since);
    if (this.#ready) this.#send(since === undefined ? { type: 'sub', room } : { type: 'sub', room, since });
  }

  unsubscribe(room: string): void {
    this.#rooms.delete(room);
    if (this.#ready) this.#send({ type: 'unsub', room });
  }

  /** The last seq seen in a room. */
  lastSeq(room: string): number | undefined {
    return this.#rooms.get(room);
  }

  /**
   * Publish; resolves with the seq once the server has stored it durably. Pass the `ref` of an
   * earlier attempt to retry it: the server answers with the first seq instead of storing twice.
   */
  publish(room: string, text: string, ref: string = newRef()): Promise<{ room: string; seq: number }> {
    const earlier = this.#pubs.get(ref);
    if (earlier) {
      clearTimeout(earlier.timer);
      this.#pubs.delete(ref);
      earlier.reject(new RealtimeError('superseded', 'Sent again with the same ref.'));
    }
    const frame = { type: 'pub' as const, room, text, ref };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pubs.delete(ref);
        reject(new RealtimeError('timeout', 'No ack in time; the message may or may not be stored.'));
      }, this.#options.pubTimeout ?? 30_000);
      this.#pubs.set(ref, { frame, resolve, reject, timer });
      if (this.#ready) this.#send(frame);
    });
  }

  typing(room: string): void {
    if (this.#ready) this.#send({ type: 'typing', room });
  }

  /** One application-level round trip, in milliseconds. */
  ping(): Promise<number> {
    const ref = newRef();
    const started = performance.now();
    return new Promise((resolve, reject) => {
      if (!this.#ready) return reject(new RealtimeError('not_ready', 'Not connected.'));
      this.#pings.set(ref, () => resolve(performance.now() - started));
      this.#send({ type: 'ping', ref });
    });
  }

  close(): void {
    this.#closed = true;
    this.#ready = false;
    clearTimeout(this.#reconnectTimer);
    this.#ws?.close(1000);
    for (const p of this.#pubs.values()) {
      clearTimeout(p.timer);
      p.reject(new RealtimeError('closed', 'The client was closed before the ack.'));
    }
    this.#pubs.clear();
    this.#rejectWaiters(new RealtimeError('closed', 'The client is closed.'));
    this.#options.onStatus?.('closed');
  }

  #send(frame: ClientFrame): void {
    this.#ws?.send(JSON.stringify(frame));
  }

  #open(): void {
    this.#options.onStatus?.(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    let ws: WebSocketLike;
    try {
      ws = this.#options.connect(this.#options.url);
    } catch (err) {
      this.#scheduleReconnect(String(err));
      return;
    }
    this.#ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: this.#options.token }));
    ws.onmessage = (ev) => this.#receive(String(ev.data));
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ready = false;
      this.#ws = undefined;
      if (this.#closed) return;
      if (TERMINAL.has(ev.code)) {
        const err = new RealtimeError('closed', `closed by the server: ${ev.code} ${ev.reason}`);
        this.#closed = true;
        this.#rejectWaiters(err);
        for (const p of this.#pubs.values()) {
          clearTimeout(p.timer);
          p.reject(err);
        }
        this.#pubs.clear();
        this.#options.onStatus?.('closed', `${ev.code} ${ev.reason}`);
        return;
      }
      this.#scheduleReconnect(`${ev.code} ${ev.reason}`);
    };
  }

  #scheduleReconnect(detail: string): void {
    const min = this.#options.backoffMin ?? 250;
    const max = this.#options.backoffMax ?? 10_000;
    const delay = Math.min(max, min * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt++;
    this.#options.onStatus?.('reconnecting', detail);
    this.#reconnectTimer = setTimeout(() => this.#open(), delay);
  }

  #receive(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'ready':
        this.#ready = true;
        this.#attempt = 0;
        this.#options.onStatus?.('ready');
        // Resume every room after the last seq seen, then re-send what was never acknowledged.
        for (const [room, since] of this.#rooms)
          this.#send(since === undefined ? { type: 'sub', room } : { type: 'sub', room, since });
        for (const p of this.#pubs.values()) this.#send(p.frame);
        for (const w of this.#readyWaiters.splice(0)) w.resolve();
        break;
      case 'subbed':
        if (this.#rooms.has(frame.room) && this.#rooms.get(frame.room) === undefined)
          this.#rooms.set(frame.room, frame.seq);
        break;
      case 'msg':
      case 'del': {
        const last = this.#rooms.get(frame.room);
        if (!this.#rooms.has(frame.room)) break;
        // A live `del` of an older message is not a position in the stream.
        if (frame.type === 'msg' || last === undefined || frame.seq > last)
          this.#rooms.set(frame.room, Math.max(frame.seq, last ?? 0));
        break;
      }
      case 'ack': {
        const p = typeof frame.ref === 'string' ? this.#pubs.get(frame.ref) : undefined;
        if (p) {
          this.#pubs.delete(p.frame.ref);
          clearTimeout(p.timer);
          p.resolve({ room: frame.room, seq: frame.seq });
        }
        break;
      }
      case 'pong': {
        const ref = typeof frame.ref === 'string' ? frame.ref : undefined;
        const done = ref === undefined ? undefined : this.#pings.get(ref);
        if (done) {
          this.#pings.delete(ref!);
          done(0);
        }
        break;
      }
      case 'error': {
        const p = typeof frame.ref === 'string' ? this.#pubs.get(frame.ref) : undefined;
        if (p) {
          this.#pubs.delete(p.frame.ref);
          clearTimeout(p.timer);
          p.reject(new RealtimeError(frame.code, frame.message));
        }
        if (!this.#ready && ['token_invalid', 'token_expired', 'unauthorized'].includes(frame.code))
          this.#rejectWaiters(new RealtimeError(frame.code, frame.message));
        break;
      }
      case 'unsubbed':
      case 'room_deleted':
        this.#rooms.delete(frame.room);
        break;
    }
    this.#options.onFrame?.(frame);
  }

  #rejectWaiters(err: Error): void {
    for (const w of this.#readyWaiters.splice(0)) w.reject(err);
  }
}
