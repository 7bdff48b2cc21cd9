// The in-process Bus of a single node: publish calls every handler synchronously, in order.
import { type Bus, type BusHandler, type RoomEvent, deliver } from './bus.js';

export class MemoryBus implements Bus {
  readonly kind = 'memory';
  readonly healthy = true;
  readonly #handlers = new Set<BusHandler>();

  async publish(event: RoomEvent): Promise<void> {
    deliver(this.#handlers, event);
  }

  /** One process cannot miss its own events. */
  onResync(): () => void {
    return () => {};
  }

  subscribe(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
