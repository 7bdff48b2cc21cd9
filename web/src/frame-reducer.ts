// How each server frame changes what the page shows. It touches no DOM, storage, timer or network,
// so it runs under Node in tests; what needs those is handed back to the Session as effects.
import type { Frame } from '../../src/client/realtime.js';
import { Timeline } from '../../src/client/timeline.js';
import type { RoomSummary } from '../../src/core/types.js';
import { describeError } from './errors.js';
import type { TypingTracker } from '../../src/client/typing.js';

export interface Me {
  readonly name: string;
  readonly admin: boolean;
}

/** The part of the client's state that frames change; the Session owns it and shows it. */
export interface ClientState {
  /** Who is signed in; `admin` follows each `ready` (an admin's right can be taken away). */
  me: Me;
  rooms: RoomSummary[];
  /** The open room. */
  current: string | undefined;
  readonly timelines: Map<string, Timeline>;
  readonly presence: Map<string, readonly string[]>;
  /** Rooms followed over the WebSocket: every room we are a member of, and the open one. */
  readonly followed: Set<string>;
  readonly typing: TypingTracker;
}

/** What a frame asks of the Session, in the order it asks. */
export type Effect =
  /** A message arrived in the open room: it is read if the page is in view. */
  | { readonly kind: 'arrived'; readonly room: string }
  | { readonly kind: 'refreshRooms' }
  /** The open room's member list changed. */
  | { readonly kind: 'loadMembers' }
  /** A subscription landed: what changed before it did must be read again. */
  | { readonly kind: 'resync'; readonly room: string }
  | { readonly kind: 'notify'; readonly text: string };

/**
 * Applies `frame` to `state` (in place: timelines are mutable) and returns the effects it asks for;
 * undefined when the frame is none the page shows, so nothing needs drawing again.
 */
export function reduceFrame(state: ClientState, frame: Frame, now: number): Effect[] | undefined {
  const effects: Effect[] = [];
  switch (frame.type) {
    case 'msg':
      timelineOf(state, frame.room).applyFrame(frame);
      state.rooms = bumpLastSeq(state.rooms, frame.room, frame.seq);
      state.typing.posted(frame.room, frame.author);
      if (frame.room === state.current) effects.push({ kind: 'arrived', room: frame.room });
      break;
    case 'edit':
    case 'del':
      timelineOf(state, frame.room).applyFrame(frame);
      break;
    case 'presence':
      state.presence.set(frame.room, frame.online);
      break;
    case 'ready':
      // After a `rights_changed` close the client reconnects with the same token, which no
      // longer carries the admin right: the page stops offering what needs it.
      if (frame.admin !== state.me.admin) state.me = { ...state.me, admin: frame.admin };
      break;
    case 'typing':
      state.typing.heard(frame.room, frame.user, now);
      break;
    case 'member_joined':
    case 'member_left':
      if (frame.user === state.me.name) effects.push({ kind: 'refreshRooms' });
      if (frame.room === state.current) effects.push({ kind: 'loadMembers' });
      break;
    case 'room_updated': {
      // Merged as a REST read is: older than what is shown (a room read after this change),
      // what is shown stays.
      const { title, topic, private: isPrivate, updatedAt } = frame;
      state.rooms = state.rooms.map((r) =>
        r.name === frame.room ? newer(r, { ...r, title, topic, private: isPrivate, updatedAt }) : r,
      );
      break;
    }
    case 'subbed':
      effects.push({ kind: 'resync', room: frame.room });
      break;
    case 'unsubbed':
    case 'room_deleted': {
      const room = frame.room;
      state.followed.delete(room);
      if (frame.type === 'room_deleted' || state.rooms.find((r) => r.name === room)?.private) {
        if (state.current === room) state.current = undefined;
        effects.push({ kind: 'refreshRooms' });
      }
      break;
    }
    case 'error':
      // Errors answering a pub are shown on the message itself.
      if (frame.ref === undefined) effects.push({ kind: 'notify', text: describeError(frame) });
      break;
    default:
      return undefined;
  }
  return effects;
}

/** A room's timeline, made empty the first time the room is shown or heard from. */
export function timelineOf(state: Pick<ClientState, 'timelines'>, room: string): Timeline {
  let t = state.timelines.get(room);
  if (!t) {
    t = new Timeline(room);
    state.timelines.set(room, t);
  }
  return t;
}

/** The rooms with `room`'s last seq raised to `seq`; the same array when that is no news. */
export function bumpLastSeq(rooms: RoomSummary[], room: string, seq: number): RoomSummary[] {
  const summary = rooms.find((r) => r.name === room);
  if (!summary || seq <= summary.lastSeq) return rooms;
  return rooms.map((r) => (r === summary ? { ...r, lastSeq: seq } : r));
}

/** A room as read over REST, keeping what `held` knows that is newer (its fields, its last seq). */
export function newer(held: RoomSummary | undefined, read: RoomSummary): RoomSummary {
  if (!held || held.createdAt !== read.createdAt) return read;
  const lastSeq = Math.max(held.lastSeq, read.lastSeq);
  if (held.updatedAt <= read.updatedAt) return { ...read, lastSeq };
  const { title, topic, private: isPrivate, updatedAt } = held;
  return { ...read, title, topic, private: isPrivate, updatedAt, lastSeq };
}
