// The Bus carries events that were already stored to every node's hub. It is the seam between
// "durable" and "delivered": a writer publishes only after the store resolved, and a subscriber
// that misses events (a lost connection to the bus) closes the gap from the store by seq.
import type { Limiter, RateLimit } from '../core/rate-limiter.js';
import type { Member, Message, Room } from '../core/types.js';

export type RoomEvent =
  | { readonly type: 'msg'; readonly room: string; readonly message: Message }
  | { readonly type: 'edit'; readonly room: string; readonly message: Message }
  /** `by`: who deleted it. */
  | { readonly type: 'del'; readonly room: string; readonly seq: number; readonly by?: string }
  | { readonly type: 'member_joined'; readonly room: string; readonly member: Member }
  /** `by`: who removed them (themselves when they left); absent when their account was deleted. */
  | { readonly type: 'member_left'; readonly room: string; readonly user: string; readonly by?: string }
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

/**
 * Events every node must hear whether or not it serves the room: users deleted or changed, and
 * changes of a room or its members (each node's access cache forgets the room; an invite reaches
 * the invited user's connections wherever they are). They are as rare as such changes; the rest
 * (messages, edits, deletions, typing, presence) travel only to the nodes that follow the room.
 */
export function isDeploymentWide(event: RoomEvent): boolean {
  switch (event.type) {
    case 'user_deleted':
    case 'user_changed':
    case 'member_joined':
    case 'member_left':
    case 'room_updated':
    case 'room_deleted':
      return true;
    default:
      return false;
  }
}

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
  /**
   * Receive, until the returned function is called, every deployment-wide event, this node's own
   * events, and the events of the rooms this node follows.
   */
  subscribe(handler: BusHandler): () => void;
  /**
   * From the moment the promise resolves, every event of `room` published on any node reaches
   * this node's handlers (until as many `unfollow` calls). Never rejects; may stay pending while
   * the bus is away, so callers bound the wait and re-read the store by seq if it runs out.
   */
  follow(room: string): Promise<void>;
  /** One follower of `room` fewer; the last one's leaving takes effect after a linger. */
  unfollow(room: string): void;
  /** Rooms whose events reach this node now (lingering ones included). */
  readonly following: number;
  /**
   * This node begins storing a message in `room`; call the returned function once it was
   * published (or failed). Meanwhile the bus may hold other nodes' events of that room, briefly,
   * so this node fans out both in one pass instead of writing every connection twice.
   */
  writing(room: string): () => void;
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
