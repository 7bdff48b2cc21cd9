// What subscribers are sent for each event of a room: a stored message becomes `msg` (or `del`
// for a tombstone, so a replay leaves no seq missing), and every other room event its frame.
// One Outgoing per event, shared by every recipient.
import type { InRoomEvent } from '../bus/bus.js';
import type { Message } from '../core/types.js';
import { Outgoing } from './outgoing.js';

const messageBody = (m: Message) => ({
  room: m.room,
  seq: m.seq,
  id: m.id,
  author: m.author,
  text: m.text ?? '',
  via: m.via,
  createdAt: m.createdAt,
  ...(m.editedAt ? { editedAt: m.editedAt } : {}),
});

/** A stored message as the frame a subscriber receives: `msg`, or `del` for a tombstone. */
export function messageFrame(m: Message): Outgoing {
  if (m.deleted) return new Outgoing({ type: 'del', room: m.room, seq: m.seq }, m.seq);
  return new Outgoing({ type: 'msg', ...messageBody(m) }, m.seq);
}

/** The frame of a room event other than a new message or a presence change. */
export function eventFrame(event: Exclude<InRoomEvent, { type: 'msg' | 'presence' }>): Outgoing {
  switch (event.type) {
    case 'edit':
      return new Outgoing({ type: 'edit', ...messageBody(event.message) });
    case 'del':
      return new Outgoing({
        type: 'del',
        room: event.room,
        seq: event.seq,
        ...(event.by ? { by: event.by } : {}),
      });
    case 'typing':
      return new Outgoing({ type: 'typing', room: event.room, user: event.user });
    case 'member_joined':
      return new Outgoing({
        type: 'member_joined',
        room: event.room,
        user: event.member.user,
        role: event.member.role,
      });
    case 'member_left':
      return new Outgoing({
        type: 'member_left',
        room: event.room,
        user: event.user,
        ...(event.by ? { by: event.by } : {}),
      });
    case 'room_updated': {
      const { name: _n, createdAt: _c, ...fields } = event.value;
      return new Outgoing({ type: 'room_updated', room: event.room, ...fields });
    }
    case 'room_deleted':
      return new Outgoing({ type: 'room_deleted', room: event.room });
  }
}
