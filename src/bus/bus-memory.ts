// The in-process Bus of a single node: publish calls every handler synchronously, in order.
import type { Bus, BusHandler, RoomEvent } from './bus.js';

export class MemoryBus implements Bus {
  readonly kind = 'memory';
  readonly healthy = true;
  readonly #handlers = new Set<BusHandler>();

  async publish(event: RoomEvent): Promise<void> {
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch {
        // One faulty subscriber must not starve the others; hubs report their own errors.
      }
    }
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
