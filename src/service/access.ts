// Loading a room together with what the actor may do in it: the one place that turns a room
// name into "visible to you" or room_not_found, so no use case can skip the check.
import { type Decision, type RoomFacts, canSeeRoom } from '../core/authorize.js';
import { fail } from '../core/errors.js';
import type { Actor, Role, RoomRecord } from '../core/types.js';
import type { Store } from '../store/store.js';

export interface RoomAccess {
  readonly room: RoomRecord;
  readonly facts: RoomFacts;
}

/** Throws the decision's error code when a rule says no. */
export function enforce(decision: Decision): void {
  if (decision) fail(decision);
}

/** What the rules need to know of `room`, for a user whose membership is `role`. */
export const roomFacts = (room: RoomRecord, role: Role | undefined): RoomFacts => ({
  private: room.private,
  owner: room.owner,
  role,
});

export async function visibleRoom(store: Store, actor: Actor, name: string): Promise<RoomAccess> {
  const room = await store.getRoom(name);
  if (!room) fail('room_not_found');
  const facts = roomFacts(room, await store.getRole(room, actor.name));
  enforce(canSeeRoom(actor, facts));
  return { room, facts };
}

/**
 * A door's conditional-request check (If-Match), run after authorization and before the write;
 * it throws `precondition_failed` when the client's copy is stale.
 */
export type Precondition<T> = (current: T) => void;
