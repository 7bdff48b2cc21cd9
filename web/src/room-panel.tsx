// Room info: members (with who is online), and for the owner title/topic editing and invites;
// for members, leaving.
import type { RoomSummary } from '../../src/core/types.js';
import type { Session } from './session.js';

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

  const saveFields = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const input = (field: string) => form.elements.namedItem(field) as HTMLInputElement;
    // Only what was changed here: a field left alone must not put back an older value over
    // someone else's live change.
    const changed: { title?: string; topic?: string } = {};
    for (const field of ['title', 'topic'] as const)
      if (input(field).value !== input(field).defaultValue) changed[field] = input(field).value;
    if (Object.keys(changed).length === 0 || !(await session.updateRoom(room.name, changed))) return;
    // Saved: the form is clean again, so its fields follow the room's live changes from here.
    for (const [field, value] of Object.entries(changed)) input(field).defaultValue = value;
    form.reset();
  };
  const invite = async (ev: Event) => {
    ev.preventDefault();
    const el = ev.currentTarget as HTMLFormElement;
    const user = String(new FormData(el).get('invitee') ?? '').trim();
    if (user && (await session.invite(room.name, user))) el.reset();
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
          {/* defaultValue: live updates redraw this panel, and must not undo what is being typed. */}
          <label for="room-title-edit">Title</label>
          <input id="room-title-edit" name="title" defaultValue={room.title} required maxLength={100} />
          <label for="room-topic-edit">Topic</label>
          <input id="room-topic-edit" name="topic" defaultValue={room.topic} maxLength={500} />
          <button type="submit">Save</button>
        </form>
      )}
      {owner && (
        <form onSubmit={invite} aria-label="Invite">
          <h3>Invite</h3>
          <label for="invitee">User name</label>
          <input id="invitee" name="invitee" required pattern="[a-z0-9][a-z0-9_\-]{0,31}" />
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
