// The Bus carries events that were already stored to every node's hub. It is the seam between
// "durable" and "delivered": a writer publishes only after the store resolved, and a subscriber
// that misses events (a lost connection to the bus) closes the gap from the store by seq.
import type { Limiter, RateLimit } from '../core/rate-limiter.js';
import type { Member, Message, Room } from '../core/types.js';

export type RoomEvent =
  | { readonly type: 'msg'; readonly room: string; readonly message: Message }
  | { readonly type: 'edit'; readonly room: string; readonly message: Message }
  | { readonly type: 'del'; readonly room: string; readonly seq: number }
  | { readonly type: 'member_joined'; readonly room: string; readonly member: Member }
  | { readonly type: 'member_left'; readonly room: string; readonly user: string }
  | { readonly type: 'room_updated'; readonly room: string; readonly value: Room }
  | { readonly type: 'room_deleted'; readonly room: string }
  /** Ephemeral: never stored, so a node that misses it does not look for it. */
  | { readonly type: 'typing'; readonly room: string; readonly user: string }
  /** Ephemeral: who is online in the room changed on some node; `Bus.online` tells who now. */
  | { readonly type: 'presence'; readonly room: string }
  // Not of one room: every node ends the user's connections and forgets their tokens.
  | { readonly type: 'user_deleted'; readonly user: string }
  // Not of one room: the user's admin right was granted or taken away. Every node forgets their
  // verified tokens; where it was taken away, their connections end (`rights_changed`).
  | { readonly type: 'user_changed'; readonly user: string; readonly admin: boolean };

/** The events that belong to one room (all but `user_deleted` and `user_changed`). */
export type InRoomEvent = Extract<RoomEvent, { readonly room: string }>;

export type BusHandler = (event: RoomEvent) => void;

/** Hand an event to every handler; one that throws must not starve the others. */
export function deliver(handlers: Iterable<BusHandler>, event: RoomEvent): void {
  for (const handler of handlers) {
    try {
      handler(event);
    } catch {
      // Hubs report their own errors.
    }
  }
}

export interface Bus {
  readonly kind: string;
  /**
   * Deliver `event` to every subscriber on every node, at most once each. Events of one room
   * published from one node arrive in the order published. Resolves once handed to the
   * transport, not when delivered.
   */
  publish(event: RoomEvent): Promise<void>;
  /** Receive every published event (of every room) until the returned function is called. */
  subscribe(handler: BusHandler): () => void;
  /** True while events flow; a node reports not-ready when false. */
  readonly healthy: boolean;
  /**
   * Events may have been missed (the connection to other nodes was lost and is back, or another
   * node could not publish for a while): the listener re-reads what it follows from the store,
   * by seq. `rooms` narrows it; undefined means every room.
   */
  onResync(listener: (rooms?: readonly string[]) => void): () => void;
  /**
   * Presence: `users` are online in `room` on this node (empty: nobody here any more). The
   * share is held under a lease this node renews while it lives, so a node that dies silently
   * drops out; every change reaches every node's handlers as a `presence` event.
   */
  share(room: string, users: readonly string[]): void;
  /** Who is online in `room` on any live node: sorted, each user once. */
  online(room: string): Promise<string[]>;
  /** A rate limit named `name`, its buckets shared by every node this bus connects. */
  limiter(name: string, limit: RateLimit): Limiter;
  /** Withdraws this node's presence shares, then disconnects. */
  close(): Promise<void>;
}
