// The Bus between nodes, on Redis pub/sub. A node hands its own events to its hub at once (so it
// keeps serving its clients when Redis is away) and publishes them for the others, who skip
// their own. Pub/sub is at most once: whatever a node missed while it or Redis was away it reads
// back from the store by seq, on the resync this bus announces once the connection is back.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Bus, type BusHandler, type RoomEvent, deliver } from './bus.js';

export interface RedisBusOptions {
  readonly url: string;
  /** The pub/sub channel; nodes of one deployment share it. */
  readonly channel?: string;
  /** Backoff bounds for reconnecting, in ms. */
  readonly reconnectMin?: number;
  readonly reconnectMax?: number;
  readonly onError?: (err: Error) => void;
}

/** What travels on the channel: the sender's node id and an event, or rooms to re-read. */
type Envelope = { readonly n: string; readonly e: RoomEvent } | { readonly n: string; readonly r: string[] };

export class RedisBus implements Bus {
  readonly kind = 'redis';
  readonly node = randomUUID();
  readonly #channel: string;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #handlers = new Set<BusHandler>();
  readonly #resync = new Set<(rooms?: readonly string[]) => void>();
  /** Rooms whose events could not be published while Redis was away: the others must re-read them. */
  readonly #unsent = new Set<string>();
  #subscribedOnce = false;
  #closed = false;

  constructor(options: RedisBusOptions) {
    this.#channel = options.channel ?? 'porthouse:events';
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
    this.#sub = new Redis(options.url, {
      ...common,
      // The subscriber must resubscribe by itself after a reconnect.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectionName: `porthouse-sub-${this.node}`,
    });
    const onError = options.onError ?? (() => {});
    this.#pub.on('error', onError);
    this.#sub.on('error', onError);
    this.#sub.on('message', (_channel: string, text: string) => this.#receive(text));
    // ioredis resubscribes on reconnect; 'ready' after the first one means a gap may exist.
    this.#sub.on('ready', () => {
      if (this.#subscribedOnce) this.#announce(undefined);
    });
    this.#pub.on('ready', () => this.#flushUnsent());
  }

  /** Connects both connections and subscribes; rejects if Redis cannot be reached now. */
  async connect(): Promise<void> {
    await Promise.all([this.#pub.connect(), this.#sub.connect()]);
    await this.#sub.subscribe(this.#channel);
    this.#subscribedOnce = true;
  }

  get healthy(): boolean {
    return !this.#closed && this.#pub.status === 'ready' && this.#sub.status === 'ready';
  }

  async publish(event: RoomEvent): Promise<void> {
    this.#deliver(event);
    if (this.#pub.status !== 'ready') {
      // Typing notices are ephemeral: nobody looks for a lost one.
      if (event.type !== 'typing') this.#unsent.add(event.room);
      return;
    }
    try {
      await this.#pub.publish(this.#channel, JSON.stringify({ n: this.node, e: event } satisfies Envelope));
    } catch {
      if (event.type !== 'typing') this.#unsent.add(event.room);
    }
  }

  subscribe(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  onResync(listener: (rooms?: readonly string[]) => void): () => void {
    this.#resync.add(listener);
    return () => this.#resync.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handlers.clear();
    this.#resync.clear();
    this.#pub.disconnect();
    this.#sub.disconnect();
  }

  #receive(text: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (envelope.n === this.node) return;
    if ('e' in envelope) this.#deliver(envelope.e);
    else if (Array.isArray(envelope.r)) this.#announce(envelope.r);
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
