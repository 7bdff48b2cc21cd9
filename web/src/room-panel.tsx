// Room info: members (with who is online), and for the owner title/topic editing and invites;
// for members, leaving.
import { useState } from 'preact/hooks';
import type { RoomSummary } from '../../src/core/types.js';
import type { Session } from './session.js';

const FIELDS = ['title', 'topic'] as const;
type Draft = { title?: string; topic?: string };

export function RoomPanel({
  session,
  room,
  onClose,
}: {
  session: Session;
  room: RoomSummary;
  onClose: () => void;
}) {
  const online = new Set(session.presence.get(room.name) ?? []);
  const owner = room.role === 'owner';

  // What the owner has typed and not yet saved, per field. A field without a draft shows the
  // room's live value; a draft survives live redraws and a save that is still on its way.
  const [draft, setDraft] = useState<Draft>({});
  const shown = (field: keyof Draft) => draft[field] ?? room[field];
  const typeInto = (field: keyof Draft) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value;
    setDraft((now) => ({ ...now, [field]: value }));
  };

  const saveFields = async (ev: Event) => {
    ev.preventDefault();
    // Only what was changed here: a field left alone must not put back an older value over
    // someone else's live change.
    const changed: Draft = {};
    for (const field of FIELDS) {
      const typed = draft[field];
      if (typed !== undefined && typed !== room[field]) changed[field] = typed;
    }
    // Once saved, a field follows the room's live changes again, as does one whose draft was
    // the room's value already; one typed into while the save was on its way stays a draft.
    const settle = (now: Draft) => {
      const left: Draft = { ...now };
      for (const field of FIELDS) if (left[field] === draft[field]) delete left[field];
      return left;
    };
    if (Object.keys(changed).length === 0 || (await session.updateRoom(room.name, changed))) setDraft(settle);
  };
  const [invitee, setInvitee] = useState('');
  const invite = async (ev: Event) => {
    ev.preventDefault();
    const user = invitee.trim();
    // Cleared once invited, unless the next name was typed while the invite was on its way.
    if (user && (await session.invite(room.name, user)))
      setInvitee((now) => (now.trim() === user ? '' : now));
  };

  return (
    <aside
      class="room-panel"
      aria-label={`About #${room.name}`}
      onKeyDown={(e) => e.key === 'Escape' && onClose()}
    >
      <h3>Members</h3>
      <ul class="members">
        {session.members.map((m) => (
          <li key={m.user}>
            <span class={`dot ${online.has(m.user) ? 'online' : ''}`} aria-hidden="true" />
            {m.user}
            {m.role === 'owner' ? ' (owner)' : ''}
            <span class="visually-hidden">{online.has(m.user) ? ', online' : ', offline'}</span>
          </li>
        ))}
      </ul>
      {owner && (
        <form onSubmit={saveFields} aria-label="Room settings">
          <h3>Settings</h3>
          <label for="room-title-edit">Title</label>
          <input
            id="room-title-edit"
            name="title"
            value={shown('title')}
            onInput={typeInto('title')}
            required
            maxLength={100}
          />
          <label for="room-topic-edit">Topic</label>
          <input
            id="room-topic-edit"
            name="topic"
            value={shown('topic')}
            onInput={typeInto('topic')}
            maxLength={500}
          />
          <button type="submit">Save</button>
        </form>
      )}
      {owner && (
        <form onSubmit={invite} aria-label="Invite">
          <h3>Invite</h3>
          <label for="invitee">User name</label>
          <input
            id="invitee"
            name="invitee"
            value={invitee}
            onInput={(e) => setInvitee((e.currentTarget as HTMLInputElement).value)}
            required
            pattern="[a-z0-9][a-z0-9_\-]{0,31}"
          />
          <button type="submit">Invite</button>
        </form>
      )}
      {room.role === 'member' && (
        <button type="button" class="danger" onClick={() => void session.leave(room.name)}>
          Leave room
        </button>
      )}
      <button type="button" onClick={onClose}>
        Close
      </button>
    </aside>
  );
}
