// The Bus between nodes, on Redis pub/sub. A node hands its own events to its hub at once (so it
// keeps serving its clients when Redis is away) and publishes them for the others, who skip
// their own. Each room has a channel of its own (sharded pub/sub, SPUBLISH/SSUBSCRIBE, so a Redis
// Cluster spreads rooms over its shards), and a node listens only to the rooms its clients
// follow; deployment-wide events share one control channel. Pub/sub is at most once: whatever a
// node missed while it or Redis was away it reads back from the store by seq, on the resync this
// bus announces once the connection is back.
// Presence lives in one sorted set per room (member "user\nnode", score the lease's end in
// Redis' own clock), so a node that dies without a word drops out when its lease runs out.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Limiter, RateLimit } from '../core/rate-limiter.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';
import { type Bus, type BusHandler, type RoomEvent, deliver, isDeploymentWide } from './bus.js';
import { MergeHold } from './merge-hold.js';

export interface RedisBusOptions {
  readonly url: string;
  /**
   * The deployment's channel name: its control channel is named so, a room's channel is
   * `<channel>:room:<room>`, and its keys start `<channel>:`. Nodes of one deployment share it.
   */
  readonly channel?: string;
  /** How long (ms) a node still listens to a room after its last follower left. Default 30 000. */
  readonly roomLinger?: number;
  /**
   * Every message that arrives from Redis, by channel kind and origin (this node's own echo, not
   * even parsed, or another node's), with the events it carried (0 for an echo, or a message
   * that was not an event: presence, resync).
   */
  readonly onReceive?: (channel: 'room' | 'control', origin: 'own' | 'other', events: number) => void;
  /** Backoff bounds for reconnecting, in ms. */
  readonly reconnectMin?: number;
  readonly reconnectMax?: number;
  readonly onError?: (err: Error) => void;
  /** How long a node's presence share lives unless renewed (ms); renewed every quarter of it. */
  readonly presenceLease?: number;
  /**
   * Longest (ms) another node's events of a room wait for this node's own message to that room
   * in flight, so both go out together (see merge-hold.ts). Default 10; 0: never wait.
   */
  readonly mergeWait?: number;
}

/**
 * Put this node's share of a room's presence: drop the members it withdrew, add or renew the
 * rest, and sweep out every lease that ran out (returns how many: other nodes that went quiet).
 * KEYS[1] the room's set; ARGV lease ms, count of withdrawn members, withdrawn…, current….
 */
const PUT_SHARE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local gone = tonumber(ARGV[2])
for i = 3, 2 + gone do redis.call('ZREM', KEYS[1], ARGV[i]) end
for i = 3 + gone, #ARGV do redis.call('ZADD', KEYS[1], now + lease, ARGV[i]) end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
elseif redis.call('PTTL', KEYS[1]) < lease then
  redis.call('PEXPIRE', KEYS[1], lease)
end
return expired`;

/** Most events in one Redis message (a group commit's batch may be larger). */
const MAX_EVENTS_PER_MESSAGE = 256;

/** Every live member of a room's set. KEYS[1] the room's set. */
const READ_SHARES = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

interface PresenceCommands {
  porthousePutShare(key: string, ...args: (string | number)[]): Promise<number>;
  porthouseReadShares(key: string): Promise<string[]>;
}

/** What travels on the channel: the sender's node id and an event, rooms to re-read, or a room whose presence changed. */
type Envelope =
  | { readonly n: string; readonly e: RoomEvent }
  /** Several events of one channel, published in one turn (a group commit's messages). */
  | { readonly n: string; readonly es: RoomEvent[] }
  | { readonly n: string; readonly r: string[] }
  | { readonly n: string; readonly p: string };

export class RedisBus implements Bus {
  readonly kind = 'redis';
  readonly node = randomUUID();
  readonly #channel: string;
  readonly #pub: Redis;
  readonly #sub: Redis;
  /**
   * The rooms' shard channels, on a connection of their own: ioredis leaves subscriber mode when
   * a connection's last shard channel goes, which would stop the control channel's messages.
   */
  readonly #rooms: Redis;
  readonly #handlers = new Set<BusHandler>();
  readonly #resync = new Set<(rooms?: readonly string[]) => void>();
  /** Events published in this turn, by channel, and the promise of their sending. */
  #outgoing = new Map<string, { shard: boolean; events: RoomEvent[] }>();
  #sending: Promise<void> | undefined;
  /** room → its followers here, the subscription's confirmation, and the timer ending a linger. */
  readonly #follows = new Map<string, { count: number; ready: Promise<void>; linger?: NodeJS.Timeout }>();
  readonly #linger: number;
  readonly #onReceive: RedisBusOptions['onReceive'];
  /** What every envelope this node sends starts with: its echoes are known without parsing them. */
  readonly #ownPrefix: Buffer;
  /** Rooms whose events could not be published while Redis was away: the others must re-read them. */
  readonly #unsent = new Set<string>();
  #subscribedOnce = false;
  #closed = false;
  readonly #lease: number;
  readonly #renewal: NodeJS.Timeout;
  /** room → who is online there on this node (the truth). */
  readonly #shares = new Map<string, Set<string>>();
  /** room → what Redis holds for this node, as far as it knows (to withdraw who left). */
  readonly #sent = new Map<string, Set<string>>();
  /** Rooms whose presence changed here while the other nodes could not be told. */
  readonly #untold = new Set<string>();
  readonly #merge: MergeHold;

  constructor(options: RedisBusOptions) {
    this.#channel = options.channel ?? 'porthouse:events';
    this.#linger = options.roomLinger ?? 30_000;
    this.#onReceive = options.onReceive;
    this.#merge = new MergeHold(options.mergeWait ?? 10, (events) => {
      for (const event of events) this.#deliver(event);
    });
    this.#ownPrefix = Buffer.from(JSON.stringify({ n: this.node }).slice(0, -1));
    const min = options.reconnectMin ?? 100;
    const max = options.reconnectMax ?? 5000;
    const common = {
      lazyConnect: true,
      // Fail a publish at once while disconnected instead of queueing it: the hub already has
      // the event, and the other nodes get it back from the store on resync.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(max, min * 2 ** Math.min(times, 16)),
    };
    this.#pub = new Redis(options.url, { ...common, connectionName: `porthouse-pub-${this.node}` });
    const subscriber = (name: string) =>
      new Redis(options.url, {
        ...common,
        // A subscriber must resubscribe by itself after a reconnect.
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        connectionName: `porthouse-${name}-${this.node}`,
      });
    this.#sub = subscriber('sub');
    this.#rooms = subscriber('rooms');
    const onError = options.onError ?? (() => {});
    for (const conn of [this.#pub, this.#sub, this.#rooms]) conn.on('error', onError);
    // As bytes: this node's own echoes, half of a busy room's traffic, are never even decoded.
    this.#sub.on('messageBuffer', (_channel: Buffer, bytes: Buffer) => this.#receive(bytes, 'control'));
    this.#rooms.on('smessageBuffer', (_channel: Buffer, bytes: Buffer) => this.#receive(bytes, 'room'));
    // ioredis resubscribes on reconnect; 'ready' after the first one means a gap may exist.
    for (const conn of [this.#sub, this.#rooms])
      conn.on('ready', () => {
        if (!this.#subscribedOnce) return;
        this.#merge.flush();
        this.#announce(undefined);
      });
    this.#pub.on('ready', () => {
      this.#flushUnsent();
      this.#renew();
    });
    this.#pub.defineCommand('porthousePutShare', { numberOfKeys: 1, lua: PUT_SHARE });
    this.#pub.defineCommand('porthouseReadShares', { numberOfKeys: 1, lua: READ_SHARES });
    this.#lease = options.presenceLease ?? 15_000;
    this.#renewal = setInterval(() => this.#renew(), Math.max(25, this.#lease / 4));
    this.#renewal.unref();
  }

  /** Connects both connections and subscribes; rejects if Redis cannot be reached now. */
  async connect(): Promise<void> {
    await Promise.all([this.#pub.connect(), this.#sub.connect(), this.#rooms.connect()]);
    await this.#sub.subscribe(this.#channel);
    this.#subscribedOnce = true;
  }

  get healthy(): boolean {
    return (
      !this.#closed &&
      this.#pub.status === 'ready' &&
      this.#sub.status === 'ready' &&
      this.#rooms.status === 'ready'
    );
  }

  async publish(event: RoomEvent): Promise<void> {
    this.#merge.published(event);
    this.#deliver(event);
    if (this.#pub.status !== 'ready') {
      this.#lost([event]);
      return;
    }
    // The events published together go out as one message per channel: a group commit's
    // messages cost the other nodes one Redis message and one fan-out round, not one each. They
    // leave once the microtasks queued so far have run (the rest of the commit's posts), which is
    // before this node writes them to its own connections: the other nodes do not wait for that,
    // however many connections this node has. (Posts whose continuations run at different
    // depths may leave as two messages, still in order.)
    const room = isDeploymentWide(event) || !('room' in event) ? undefined : event.room;
    const channel = room === undefined ? this.#channel : this.#roomChannel(room);
    let batch = this.#outgoing.get(channel);
    if (!batch) {
      batch = { shard: room !== undefined, events: [] };
      this.#outgoing.set(channel, batch);
    }
    batch.events.push(event);
    this.#sending ??= new Promise<void>((resolve) =>
      queueMicrotask(() => {
        this.#sending = undefined;
        resolve(this.#send());
      }),
    );
    return this.#sending;
  }

  async #send(): Promise<void> {
    const batches = this.#outgoing;
    this.#outgoing = new Map();
    const sends: Promise<unknown>[] = [];
    for (const [channel, { shard, events }] of batches)
      for (let i = 0; i < events.length; i += MAX_EVENTS_PER_MESSAGE) {
        const part = events.slice(i, i + MAX_EVENTS_PER_MESSAGE);
        const envelope: Envelope =
          part.length === 1 ? { n: this.node, e: part[0]! } : { n: this.node, es: part };
        const text = JSON.stringify(envelope);
        sends.push(
          (shard ? this.#pub.spublish(channel, text) : this.#pub.publish(channel, text)).catch(() =>
            this.#lost(part),
          ),
        );
      }
    await Promise.all(sends);
  }

  /** Events the other nodes did not get: they will be told to re-read those rooms. */
  #lost(events: readonly RoomEvent[]): void {
    // Typing notices are ephemeral: nobody looks for a lost one.
    for (const event of events) if ('room' in event && event.type !== 'typing') this.#unsent.add(event.room);
  }

  get following(): number {
    return this.#follows.size;
  }

  writing(room: string): () => void {
    return this.#merge.writing(room);
  }

  follow(room: string): Promise<void> {
    const known = this.#follows.get(room);
    if (known) {
      known.count++;
      clearTimeout(known.linger);
      known.linger = undefined;
      return known.ready;
    }
    // Confirmed by Redis, or (closed, refused) never: the caller's bound and a resync cover it.
    const ready = this.#rooms.ssubscribe(this.#roomChannel(room)).then(
      () => {},
      () => new Promise<void>(() => {}),
    );
    this.#follows.set(room, { count: 1, ready });
    return ready;
  }

  unfollow(room: string): void {
    const known = this.#follows.get(room);
    if (!known || --known.count > 0) return;
    // A room that empties and fills again (a client reconnecting) keeps its channel meanwhile.
    known.linger = setTimeout(() => {
      if (this.#follows.get(room) !== known || known.count > 0) return;
      this.#follows.delete(room);
      this.#rooms.sunsubscribe(this.#roomChannel(room)).catch(() => {});
    }, this.#linger);
    known.linger.unref();
  }

  subscribe(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  onResync(listener: (rooms?: readonly string[]) => void): () => void {
    this.#resync.add(listener);
    return () => this.#resync.delete(listener);
  }

  share(room: string, users: readonly string[]): void {
    if (users.length === 0) this.#shares.delete(room);
    else this.#shares.set(room, new Set(users));
    this.#deliver({ type: 'presence', room });
    void this.#putShare(room, true);
  }

  async online(room: string): Promise<string[]> {
    const users = new Set(this.#shares.get(room));
    if (this.#pub.status === 'ready') {
      try {
        const members = await (this.#pub as unknown as PresenceCommands).porthouseReadShares(this.#key(room));
        for (const member of members) {
          const cut = member.lastIndexOf('\n');
          // This node's own entries may lag its truth by a write; the truth wins.
          if (member.slice(cut + 1) !== this.node) users.add(member.slice(0, cut));
        }
      } catch {
        // Redis went away mid-read: this node's own users are what it can vouch for.
      }
    }
    return [...users].sort();
  }

  limiter(name: string, limit: RateLimit): Limiter {
    return new RedisRateLimiter(this.#pub, `${this.#channel}:limit:${name}:`, limit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#renewal);
    for (const known of this.#follows.values()) clearTimeout(known.linger);
    this.#follows.clear();
    // Leave presence at once rather than when the lease runs out (bounded: Redis may be away).
    this.#shares.clear();
    if (this.#pub.status === 'ready') {
      // What was published this turn still goes out (a node stopping flushes its last events).
      const withdrawn: Promise<unknown>[] = [...this.#sent.keys()].map((room) => this.#putShare(room, true));
      if (this.#sending) withdrawn.push(this.#sending);
      await Promise.race([Promise.all(withdrawn), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    this.#closed = true;
    this.#merge.close();
    this.#handlers.clear();
    this.#resync.clear();
    this.#pub.disconnect();
    this.#sub.disconnect();
    this.#rooms.disconnect();
  }

  #receive(bytes: Buffer, channel: 'room' | 'control'): void {
    // This node's own events came back (it follows their room): it delivered them when it sent them.
    const own = this.#ownPrefix;
    if (bytes.length >= own.length && bytes.compare(own, 0, own.length, 0, own.length) === 0) {
      this.#onReceive?.(channel, 'own', 0);
      return;
    }
    let envelope: Envelope;
    try {
      envelope = JSON.parse(bytes.toString()) as Envelope;
    } catch {
      this.#onReceive?.(channel, 'other', 0);
      return;
    }
    const events =
      'e' in envelope ? 1 : 'es' in envelope && Array.isArray(envelope.es) ? envelope.es.length : 0;
    this.#onReceive?.(channel, 'other', events);
    if (envelope.n === this.node) return;
    let received: readonly RoomEvent[];
    if ('e' in envelope) received = [envelope.e];
    else if ('es' in envelope) received = Array.isArray(envelope.es) ? envelope.es : [];
    else if ('p' in envelope) received = [{ type: 'presence', room: String(envelope.p) }];
    else {
      if (Array.isArray(envelope.r)) this.#announce(envelope.r);
      return;
    }
    // A room's channel carries that room's events only; they may wait for this node's own write.
    const first = received[0];
    if (channel === 'room' && first && 'room' in first) this.#merge.offer(first.room, received);
    else for (const event of received) this.#deliver(event);
  }

  #key(room: string): string {
    return `${this.#channel}:presence:${room}`;
  }

  #roomChannel(room: string): string {
    return `${this.#channel}:room:${room}`;
  }

  /**
   * Bring Redis' copy of this node's share of `room` up to date and renew its lease. When the
   * users changed (`changed`) or another node's lease was found run out, every node is told.
   */
  async #putShare(room: string, changed: boolean): Promise<void> {
    if (changed) this.#untold.add(room);
    if (this.#closed || this.#pub.status !== 'ready') return; // #renew catches up once back
    const now = this.#shares.get(room) ?? new Set<string>();
    const before = this.#sent.get(room) ?? new Set<string>();
    const gone = [...before].filter((u) => !now.has(u)).map((u) => `${u}\n${this.node}`);
    const current = [...now].map((u) => `${u}\n${this.node}`);
    if (now.size === 0) this.#sent.delete(room);
    else this.#sent.set(room, now);
    try {
      const expired = await (this.#pub as unknown as PresenceCommands).porthousePutShare(
        this.#key(room),
        this.#lease,
        gone.length,
        ...gone,
        ...current,
      );
      if (expired > 0) this.#deliver({ type: 'presence', room });
      // A change tells the others itself: two writes in flight at once (a join and the leave right
      // after it) must not leave the second untold because the first cleared the flag.
      if (changed || this.#untold.has(room) || expired > 0) {
        this.#untold.delete(room);
        await this.#pub.spublish(
          this.#roomChannel(room),
          JSON.stringify({ n: this.node, p: room } satisfies Envelope),
        );
      }
    } catch {
      // Maybe not written: keep the old copy too, so the next renewal withdraws who left.
      this.#sent.set(room, new Set([...before, ...now]));
      this.#untold.add(room);
    }
  }

  /** Renew every share (and sweep out the leases of nodes that went quiet). */
  #renew(): void {
    for (const room of new Set([...this.#shares.keys(), ...this.#sent.keys()]))
      void this.#putShare(room, false);
  }

  #deliver(event: RoomEvent): void {
    deliver(this.#handlers, event);
  }

  #announce(rooms: readonly string[] | undefined): void {
    for (const listener of this.#resync) listener(rooms);
  }

  /** Back in touch: tell the other nodes which rooms they may have missed events of. */
  #flushUnsent(): void {
    if (this.#unsent.size === 0) return;
    const rooms = [...this.#unsent];
    this.#unsent.clear();
    this.#pub
      .publish(this.#channel, JSON.stringify({ n: this.node, r: rooms } satisfies Envelope))
      .catch(() => {
        for (const room of rooms) this.#unsent.add(room);
      });
  }
}
