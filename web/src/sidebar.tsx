// The room list (mine, then other public rooms, with unread counts) and the new-room form.
import { useState } from 'preact/hooks';
import type { RoomSummary } from '../../src/core/types.js';
import { Lock } from './lock.js';
import type { Session } from './session.js';

export function Sidebar({ session, onOpen }: { session: Session; onOpen: (room: string) => void }) {
  const mine = session.rooms.filter((r) => r.role !== undefined);
  const others = session.rooms.filter((r) => r.role === undefined);
  const [creating, setCreating] = useState(false);

  const item = (room: RoomSummary) => {
    const unread = session.unread(room);
    const current = session.current === room.name;
    return (
      <li key={room.name}>
        <button
          type="button"
          class={`room ${current ? 'current' : ''}`}
          aria-current={current ? 'page' : undefined}
          data-room={room.name}
          onClick={() => onOpen(room.name)}
        >
          <span class="room-name">
            {room.private ? <Lock /> : '# '}
            {room.name}
          </span>
          {unread > 0 && (
            <span class="unread">
              {unread}
              <span class="visually-hidden"> unread</span>
            </span>
          )}
        </button>
      </li>
    );
  };

  return (
    <nav class="sidebar" id="sidebar" aria-label="Rooms">
      <h2 id="my-rooms">My rooms</h2>
      <ul aria-labelledby="my-rooms">{mine.length > 0 ? mine.map(item) : <li class="empty">None yet</li>}</ul>
      <h2 id="public-rooms">Public rooms</h2>
      <ul aria-labelledby="public-rooms">
        {others.length > 0 ? others.map(item) : <li class="empty">No others</li>}
      </ul>
      {creating ? (
        <NewRoom session={session} onDone={() => setCreating(false)} />
      ) : (
        <button type="button" class="new-room" onClick={() => setCreating(true)}>
          New room
        </button>
      )}
    </nav>
  );
}

function NewRoom({ session, onDone }: { session: Session; onDone: () => void }) {
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const form = new FormData(ev.currentTarget as HTMLFormElement);
    const ok = await session.createRoom({
      name: String(form.get('room-name')),
      title: String(form.get('room-title') ?? '').trim(),
      private: form.get('room-private') === 'on',
    });
    if (ok) onDone();
  };
  return (
    <form class="new-room-form" onSubmit={submit} aria-label="New room">
      <label for="room-name">Name</label>
      <input
        id="room-name"
        name="room-name"
        required
        pattern="[a-z0-9][a-z0-9_\-]{0,63}"
        title="Lower-case letters, digits, - and _"
        // biome-ignore lint/a11y/noAutofocus: the user just asked for this form
        autoFocus
      />
      <label for="room-title">Title</label>
      <input id="room-title" name="room-title" maxLength={100} />
      <label class="check">
        <input type="checkbox" name="room-private" /> Private (invited members only)
      </label>
      <div class="row">
        <button type="submit">Create</button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
