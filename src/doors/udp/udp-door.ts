// The UDP door: one JSON frame per datagram, each carrying its own `token` (there is no
// connection to remember who sent it). `pub` is acked once durable, and a retry with the same
// `ref` gets the first seq. `sub` starts only after an address check (challenge cookie), lives
// for a lease, and receives events as datagrams. The door never sends more bytes to an address
// it has not verified than that address sent it.
import { Journey, preciseNow } from '../../core/journey.js';
import { IPV4_HEADER, IPV6_HEADER, UDP_HEADER, ingress } from '../wire-bytes.js';
import type { Logger } from 'pino';
import { type RemoteInfo, type Socket, createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Config } from '../../config.js';
import { ERRORS, type ErrorCode, PorthouseError } from '../../core/errors.js';
import { RateLimiter } from '../../core/rate-limiter.js';
import type { Actor } from '../../core/types.js';
import type { Hub } from '../../hub/hub.js';
import { Outgoing } from '../../hub/outgoing.js';
import type { Subscriber } from '../../hub/subscription.js';
import type { Metrics } from '../../metrics/metrics.js';
import { logInternal } from '../conversation.js';
import { refOf, validateFrame } from '../../protocol/decode.js';
import type { ClientFrame, FrameRef, ServerFrame } from '../../protocol/frames.js';
import type { Services } from '../../service/services.js';
import { CookieJar } from './cookie.js';

/** The frames this door serves: each datagram authenticates itself, so there is no `auth`. */
type UdpFrame = Exclude<ClientFrame, { type: 'auth' }>;

export interface UdpDoorDeps {
  readonly config: Config;
  readonly services: Services;
  readonly hub: Hub;
  readonly metrics: Metrics;
  /** Signs address-check cookies; nodes behind one UDP balancer must share it. */
  readonly cookieSecret?: Buffer;
  /** Where failures that are not the client's doing are logged. */
  readonly logger?: Logger;
}

/** A registered subscriber address, for listings (GET /v1/sockets). */
export interface UdpPeerInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly user: string;
  readonly rooms: string[];
  readonly bytesOut: number;
  readonly since: string;
  readonly expiresAt: string;
}

/** A verified address with a user's subscriptions: the hub's view of a UDP listener. */
class UdpPeer implements Subscriber {
  readonly since = new Date().toISOString();
  expiresAt = 0;
  bytesOut = 0;

  constructor(
    readonly actor: Actor,
    readonly address: string,
    readonly port: number,
    private readonly door: UdpDoor,
  ) {}

  send(out: Outgoing): void {
    const bytes = out.encoded(`udp${this.door.maxDatagram}`, (o) => this.door.encodeEvent(o));
    if (bytes.length === 0) return;
    this.bytesOut += bytes.length;
    this.door.sendTo(bytes, this.port, this.address);
    if (out.journey) {
      // A datagram is handed to the kernel at once: queued and written are one moment.
      out.journey.queued('udp', bytes.length);
      out.journey.written('udp', preciseNow());
    }
  }

  /** Datagrams have no backpressure to wait for; a long replay still yields between pages. */
  drained(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Tell the (verified) address why, once, and stop sending to it. */
  end(code: ErrorCode, message: string): void {
    this.send(new Outgoing({ type: 'error', code, message }));
    this.door.forget(this);
  }
}

export class UdpDoor {
  readonly #socket: Socket;
  readonly #cookies: CookieJar;
  readonly #sources: RateLimiter;
  readonly #peers = new Map<string, UdpPeer>();
  readonly #sweep: NodeJS.Timeout;
  readonly maxDatagram: number;
  #closed = false;

  constructor(readonly deps: UdpDoorDeps) {
    const { config } = deps;
    this.maxDatagram = config.udpMaxDatagram;
    this.#cookies = new CookieJar(undefined, deps.cookieSecret);
    this.#sources = new RateLimiter({ ratePerSecond: config.udpPerSecond, burst: config.udpPerSecond * 2 });
    this.#socket = createSocket({ type: isIP(config.host) === 6 ? 'udp6' : 'udp4' });
    this.#socket.on('message', (msg, rinfo) => this.#receive(msg, rinfo));
    this.#socket.on('error', () => {
      // ICMP-reported send failures and the like concern one datagram; the door keeps serving.
    });
    this.#sweep = setInterval(() => this.#expire(), Math.min(1000, config.udpLease / 2));
    this.#sweep.unref();
  }

  listen(host: string, port: number): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind({ address: host, port }, () => {
        this.#socket.off('error', reject);
        resolve(this.#socket.address());
      });
    });
  }

  address(): { address: string; port: number } | null {
    try {
      return this.#socket.address();
    } catch {
      return null;
    }
  }

  peers(): UdpPeerInfo[] {
    return [...this.#peers.values()].map((p) => ({
      remoteAddress: p.address,
      remotePort: p.port,
      user: p.actor.name,
      rooms: this.deps.hub.roomsOf(p),
      bytesOut: p.bytesOut,
      since: p.since,
      expiresAt: new Date(p.expiresAt).toISOString(),
    }));
  }

  close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const p of this.#peers.values()) this.deps.hub.drop(p);
    this.#peers.clear();
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  sendTo(bytes: Buffer, port: number, address: string): void {
    if (this.#closed) return;
    const metrics = this.deps.metrics.door('udp');
    metrics.bytesOut.inc(bytes.length);
    metrics.framesSent.inc(1);
    this.#socket.send(bytes, port, address);
  }

  /** An event as one datagram; a message too big for one goes without its text. */
  encodeEvent(out: Outgoing): Buffer {
    const whole = Buffer.from(out.json);
    if (whole.length <= this.maxDatagram) return whole;
    const f = out.frame;
    if (f.type === 'msg' || f.type === 'edit') {
      const { text: _text, ...rest } = f;
      const cut = Buffer.from(JSON.stringify({ ...rest, truncated: true }));
      if (cut.length <= this.maxDatagram) return cut;
    }
    this.#drop('event_too_large');
    return Buffer.alloc(0);
  }

  #drop(reason: string): void {
    this.deps.metrics.udpDropped.labels(reason).inc();
  }

  /** Answer `to` with `frame`, but never with more bytes than it sent us. */
  #reply(frame: ServerFrame, requestBytes: number, to: RemoteInfo): void {
    const bytes = Buffer.from(JSON.stringify(frame));
    if (bytes.length > requestBytes) {
      this.#drop('reply_larger_than_request');
      return;
    }
    this.sendTo(bytes, to.port, to.address);
  }

  #error(
    code: ErrorCode,
    message: string,
    requestBytes: number,
    to: RemoteInfo,
    ref?: FrameRef,
    room?: string,
  ): void {
    this.deps.metrics.errors.inc({ door: 'udp', code });
    const frame: ServerFrame = { type: 'error', code, message };
    if (ref !== undefined) frame.ref = ref;
    // As on the stream doors: a refusal names its room (a `typing` frame has no ref).
    if (room !== undefined) frame.room = room;
    // A short error beats none: try the message, then the code alone.
    if (Buffer.byteLength(JSON.stringify(frame)) > requestBytes) frame.message = '';
    this.#reply(frame, requestBytes, to);
  }

  #receive(msg: Buffer, from: RemoteInfo): void {
    const metrics = this.deps.metrics.door('udp');
    metrics.framesReceived.inc();
    if (this.deps.config.rateLimits && !this.#sources.take(from.address, Date.now()).ok) {
      this.#drop('rate_limited');
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(msg.toString('utf8'));
    } catch {
      this.#error('malformed_json', 'The datagram is not a JSON frame.', msg.length, from);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.#error('validation_failed', 'A frame is a JSON object.', msg.length, from);
      return;
    }
    const { token, cookie, ...rest } = value as Record<string, unknown>;
    if (rest['type'] === 'auth') {
      // Answered before its schema, which wants the token this door has just taken off.
      this.#error(
        'bad_request',
        'UDP has no connection to authenticate: put "token" in every frame.',
        msg.length,
        from,
        refOf(rest),
      );
      return;
    }
    const decoded = validateFrame(rest);
    if (!decoded.ok) {
      this.#error(decoded.code, decoded.message, msg.length, from, decoded.ref);
      return;
    }
    const frame = decoded.frame as UdpFrame; // `auth` was answered above
    const ref = 'ref' in frame ? frame.ref : undefined;
    if (frame.type === 'ping' && typeof token !== 'string') {
      this.#reply(ref === undefined ? { type: 'pong' } : { type: 'pong', ref }, msg.length, from);
      return;
    }
    if (typeof token !== 'string' || token.length === 0) {
      this.#error('unauthorized', 'Every UDP frame carries its "token".', msg.length, from, ref);
      return;
    }
    this.deps.services.tokens.verify(token).then(
      (actor) => this.#handle(frame, actor, cookie, msg.length, from),
      (err: unknown) => {
        const code = err instanceof PorthouseError ? err.code : 'internal';
        if (code === 'internal') logInternal(this.deps.logger, err, 'udp', 'auth');
        this.#error(code, ERRORS[code].title, msg.length, from, ref);
      },
    );
  }

  async #handle(
    frame: UdpFrame,
    actor: Actor,
    cookie: unknown,
    size: number,
    from: RemoteInfo,
  ): Promise<void> {
    const ref = 'ref' in frame ? frame.ref : undefined;
    const withRef = <F extends ServerFrame>(f: F): F => (ref === undefined ? f : { ...f, ref });
    try {
      switch (frame.type) {
        case 'ping':
          this.#renew(actor, from);
          this.#reply(withRef({ type: 'pong' }), size, from);
          return;
        case 'pub': {
          const ip = from.family === 'IPv6' ? IPV6_HEADER : IPV4_HEADER;
          await this.deps.services.messages.post(actor, frame.room, frame.text, 'udp', {
            idempotencyKey: ref === undefined ? undefined : String(ref),
            journey: this.deps.services.journeys.enabled
              ? new Journey(
                  frame.room,
                  ingress(
                    'udp',
                    size + UDP_HEADER + ip,
                    `JSON datagram, UDP header (8 bytes), IP header (${ip} bytes)`,
                  ),
                )
              : undefined,
            acknowledge: (message) =>
              this.#reply(withRef({ type: 'ack', room: frame.room, seq: message.seq }), size, from),
          });
          return;
        }
        case 'typing':
          await this.deps.services.messages.typing(actor, frame.room);
          return;
        case 'unsub': {
          const peer = this.#peers.get(peerKey(from, actor));
          if (peer) this.deps.hub.unsubscribe(peer, frame.room);
          this.#reply(withRef({ type: 'unsubbed', room: frame.room }), size, from);
          return;
        }
        case 'sub': {
          if (!this.#cookies.check(cookie, from.address, from.port)) {
            // Unverified address: a cookie, smaller than the request, and nothing else.
            this.#reply(
              withRef({ type: 'challenge', cookie: this.#cookies.issue(from.address, from.port) }),
              size,
              from,
            );
            return;
          }
          const peer = this.#peer(actor, from);
          await this.deps.hub.subscribe(peer, frame.room, frame.since, ref);
          return;
        }
      }
    } catch (err) {
      const code = err instanceof PorthouseError ? err.code : 'internal';
      if (code === 'internal') logInternal(this.deps.logger, err, 'udp', frame.type);
      const room = 'room' in frame ? frame.room : undefined;
      this.#error(
        code,
        err instanceof PorthouseError ? err.message : ERRORS.internal.title,
        size,
        from,
        ref,
        room,
      );
    }
  }

  /** The subscriber for this verified address and user, created or renewed. */
  #peer(actor: Actor, from: RemoteInfo): UdpPeer {
    const key = peerKey(from, actor);
    let peer = this.#peers.get(key);
    if (!peer) {
      peer = new UdpPeer(actor, from.address, from.port, this);
      this.#peers.set(key, peer);
      this.deps.metrics.door('udp').connections.inc();
    }
    peer.expiresAt = Date.now() + this.deps.config.udpLease;
    return peer;
  }

  /** A peer the hub has already dropped (its user was deleted): no lease, no more datagrams. */
  forget(peer: UdpPeer): void {
    const key = peerKey({ address: peer.address, port: peer.port }, peer.actor);
    if (this.#peers.get(key) !== peer) return;
    this.#peers.delete(key);
    this.deps.metrics.door('udp').connections.dec();
  }

  #renew(actor: Actor, from: RemoteInfo): void {
    const peer = this.#peers.get(peerKey(from, actor));
    if (peer) peer.expiresAt = Date.now() + this.deps.config.udpLease;
  }

  #expire(): void {
    const now = Date.now();
    for (const [key, peer] of this.#peers) {
      if (peer.expiresAt > now) continue;
      this.#peers.delete(key);
      this.deps.hub.drop(peer);
      this.deps.metrics.door('udp').connections.dec();
    }
  }
}

const peerKey = (from: Pick<RemoteInfo, 'address' | 'port'>, actor: Actor) =>
  `${from.address}|${from.port}|${actor.name}`;
