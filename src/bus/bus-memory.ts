// The in-process Bus of a single node: publish calls every handler synchronously, in order.
import { type Limiter, type RateLimit, RateLimiter } from '../core/rate-limiter.js';
import { type Bus, type BusHandler, type RoomEvent, deliver } from './bus.js';

export class MemoryBus implements Bus {
  readonly kind = 'memory';
  readonly healthy = true;
  readonly #handlers = new Set<BusHandler>();
  /** room → who is online in it: on one node, this node's share is the whole answer. */
  readonly #online = new Map<string, string[]>();

  async publish(event: RoomEvent): Promise<void> {
    deliver(this.#handlers, event);
  }

  /** One process hears every room. */
  readonly following = 0;

  follow(): Promise<void> {
    return Promise.resolve();
  }

  unfollow(): void {}

  /** No other node's events to hold. */
  writing(): () => void {
    return noop;
  }

  /** One process cannot miss its own events. */
  onResync(): () => void {
    return () => {};
  }

  subscribe(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  share(room: string, users: readonly string[]): void {
    if (users.length === 0) this.#online.delete(room);
    else this.#online.set(room, [...new Set(users)].sort());
    deliver(this.#handlers, { type: 'presence', room });
  }

  async online(room: string): Promise<string[]> {
    return [...(this.#online.get(room) ?? [])];
  }

  /** One node: its own buckets are the whole cluster's. */
  limiter(_name: string, limit: RateLimit): Limiter {
    return new RateLimiter(limit);
  }

  async close(): Promise<void> {
    this.#online.clear();
    this.#handlers.clear();
  }
}

const noop = () => {};
