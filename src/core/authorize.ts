// Who may do what to a room: pure decisions, so every door asks the same question and a
// matrix test can pin the answers. Private rooms are invisible to outsiders (404, not 403),
// so their existence does not leak.
import type { ErrorCode } from './errors.js';
import type { Actor, Role } from './types.js';

/** The facts a decision needs; `role` is the actor's membership, if any. */
export interface RoomFacts {
  readonly private: boolean;
  readonly owner: string;
  readonly role: Role | undefined;
}

/** undefined = allowed; otherwise the error code to answer with. */
export type Decision = ErrorCode | undefined;

export function canSeeRoom(actor: Actor, room: RoomFacts): Decision {
  if (!room.private || actor.admin || room.role) return undefined;
  return 'room_not_found';
}

export function canPost(actor: Actor, room: RoomFacts): Decision {
  return canSeeRoom(actor, room) ?? (room.role || actor.admin ? undefined : 'not_a_member');
}

export function canManageRoom(actor: Actor, room: RoomFacts): Decision {
  return canSeeRoom(actor, room) ?? (room.role === 'owner' || actor.admin ? undefined : 'forbidden');
}

/** Add `user` to the room: anyone may join a public room themselves; members may invite. */
export function canAddMember(actor: Actor, room: RoomFacts, user: string): Decision {
  const seen = canSeeRoom(actor, room);
  if (seen) return seen;
  if (actor.admin || room.role) return undefined;
  if (!room.private && user === actor.name) return undefined;
  return 'not_a_member';
}

/** Remove `user`: anyone may leave; the owner (or an admin) may remove others. */
export function canRemoveMember(actor: Actor, room: RoomFacts, user: string): Decision {
  const seen = canSeeRoom(actor, room);
  if (seen) return seen;
  if (user === room.owner) return 'owner_cannot_leave';
  if (user === actor.name || actor.admin || room.role === 'owner') return undefined;
  return 'forbidden';
}

export function canEditMessage(actor: Actor, room: RoomFacts, author: string): Decision {
  return canSeeRoom(actor, room) ?? (author === actor.name || actor.admin ? undefined : 'forbidden');
}

export function canDeleteMessage(actor: Actor, room: RoomFacts, author: string): Decision {
  const seen = canSeeRoom(actor, room);
  if (seen) return seen;
  return author === actor.name || room.role === 'owner' || actor.admin ? undefined : 'forbidden';
}

/** How long a node trusts that a verified token's user still exists before it looks again. */
export const USER_RECHECK_MS = 60_000;
