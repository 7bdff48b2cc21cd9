// The UDP door from Node: requests that retry until answered (a lost datagram or a lost answer
// both look like silence; retrying with the same ref is safe), the subscription's address check
// and lease renewal. Delivery is best effort: callers watch seq for gaps.
import { type Socket, createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { ClientFrame } from '../protocol/frames.js';
import type { Frame } from './realtime.js';
import { RealtimeError } from './realtime.js';

/** A client frame as UDP sends it: the token rides in every datagram, a sub may carry a cookie. */
export type UdpRequest = ClientFrame & { readonly cookie?: string };

export interface UdpClientOptions {
  /** udp://host:port */
  readonly url: string;
  readonly token: string;
  /** Every datagram received that answers no pending request (events). */
  readonly onFrame?: (frame: Frame) => void;
}

let counter = 0;
const newRef = () => `u${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}${++counter}`;

export class UdpClient {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #port: number;
  readonly #pending = new Map<string, (frame: Frame) => void>();
  #renew: NodeJS.Timeout | undefined;

  constructor(private readonly options: UdpClientOptions) {
    const { hostname, port } = new URL(options.url);
    this.#host = hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(port);
    this.#socket = createSocket(isIP(this.#host) === 6 ? 'udp6' : 'udp4');
    this.#socket.on('message', (msg) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(msg)) as Frame;
      } catch {
        return;
      }
      const ref = 'ref' in frame ? frame.ref : undefined;
      const waiter = typeof ref === 'string' ? this.#pending.get(ref) : undefined;
      if (waiter) waiter(frame);
      else options.onFrame?.(frame);
    });
    this.#socket.on('error', () => {});
  }

  /**
   * Send `frame` (the token and a ref are added) until a reply with its ref arrives, at most
   * `tries` times. Resolves with the reply; an `error` reply rejects with its code.
   */
  async request(frame: UdpRequest, tries = 5, timeoutMs = 1000): Promise<Frame> {
    const ref = typeof frame.ref === 'string' ? frame.ref : newRef();
    const bytes = Buffer.from(JSON.stringify({ ...frame, ref, token: this.options.token }));
    try {
      for (let attempt = 0; attempt < tries; attempt++) {
        const reply = await new Promise<Frame | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), timeoutMs);
          this.#pending.set(ref, (f) => {
            clearTimeout(timer);
            resolve(f);
          });
          this.#socket.send(bytes, this.#port, this.#host);
        });
        if (!reply) continue;
        if (reply.type === 'error') throw new RealtimeError(reply.code, reply.message);
        return reply;
      }
      throw new RealtimeError('timeout', `No answer after ${tries} tries.`);
    } finally {
      this.#pending.delete(ref);
    }
  }

  /**
   * Publish, retried until acked (the same ref each time, so it is stored once); resolves with
   * the ack.
   */
  async pub(
    room: string,
    text: string,
    o: { ref?: string; tries?: number; timeoutMs?: number } = {},
  ): Promise<Extract<Frame, { type: 'ack' }>> {
    const reply = await this.request(
      { type: 'pub', room, text, ...(o.ref === undefined ? {} : { ref: o.ref }) },
      o.tries,
      o.timeoutMs,
    );
    if (reply.type !== 'ack') throw new RealtimeError('bad_reply', `Expected ack, got ${reply.type}.`);
    return reply;
  }

  /** Subscribe: answer the address check, then renew the lease every `renewMs`. */
  async subscribe(room: string, since?: number, renewMs = 20_000): Promise<number> {
    const sub = { type: 'sub' as const, room, ...(since === undefined ? {} : { since }) };
    let reply = await this.request(sub);
    if (reply.type === 'challenge') reply = await this.request({ ...sub, cookie: reply.cookie });
    if (reply.type !== 'subbed') throw new RealtimeError('bad_reply', `Expected subbed, got ${reply.type}.`);
    clearInterval(this.#renew);
    this.#renew = setInterval(() => {
      this.request({ type: 'ping' }, 3).catch(() => {});
    }, renewMs);
    this.#renew.unref();
    return reply.seq;
  }

  close(): void {
    clearInterval(this.#renew);
    this.#socket.close();
  }
}
