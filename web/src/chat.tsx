// The signed-in layout: header with the connection state, the room list, the open room, and for
// admins the Network panel. On a phone-width window the room list folds behind a button.
import { useState } from 'preact/hooks';
import { RoomView } from './room-view.js';
import { NetworkPanel } from './network-panel.js';
import type { Session } from './session.js';
import { Sidebar } from './sidebar.js';
import { markTourSeen, tourSeen } from './storage.js';
import { Tour } from './tour.js';
import { useSession } from './use-session.js';

const STATUS_TEXT = {
  connecting: 'Connecting…',
  ready: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
} as const;

export function Chat({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  useSession(session);
  const [view, setView] = useState<'chat' | 'network'>('chat');
  const [roomsOpen, setRoomsOpen] = useState(false);
  const [touring, setTouring] = useState(() => !tourSeen());

  return (
    <div class={`chat ${roomsOpen ? 'rooms-open' : ''}`}>
      <header class="top">
        <button
          type="button"
          class="rooms-toggle"
          aria-expanded={roomsOpen}
          aria-controls="sidebar"
          onClick={() => setRoomsOpen(!roomsOpen)}
        >
          Rooms
        </button>
        <h1>porthouse</h1>
        <p
          class={`status status-${session.status}`}
          role="status"
          aria-live="polite"
          data-status={session.status}
        >
          {STATUS_TEXT[session.status]}
          {session.status === 'reconnecting' && session.statusDetail ? (
            <span class="detail"> ({session.statusDetail.trim() || 'connection lost'})</span>
          ) : null}
        </p>
        <nav aria-label="Views">
          <button type="button" aria-pressed={view === 'chat'} onClick={() => setView('chat')}>
            Chat
          </button>
          {session.me.admin && (
            <button type="button" aria-pressed={view === 'network'} onClick={() => setView('network')}>
              Network
            </button>
          )}
          <button type="button" aria-pressed={touring} onClick={() => setTouring(!touring)}>
            Tour
          </button>
        </nav>
        <span class="me">
          {session.me.name}
          {session.me.admin ? ' (admin)' : ''}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <Notices session={session} />
      <Sidebar
        session={session}
        onOpen={(room) => {
          setView('chat');
          setRoomsOpen(false);
          void session.attempt(() => session.open(room));
        }}
      />
      <main class="main" id="main">
        {touring && (
          <Tour
            session={session}
            onClose={() => {
              markTourSeen();
              setTouring(false);
            }}
          />
        )}
        {view === 'network' && session.me.admin ? (
          <NetworkPanel session={session} />
        ) : (
          <RoomView session={session} />
        )}
      </main>
    </div>
  );
}

function Notices({ session }: { session: Session }) {
  if (session.notices.length === 0) return null;
  return (
    <div class="notices" role="alert">
      {session.notices.map((n) => (
        <p key={n.id} class="notice">
          {n.text}
          <button type="button" aria-label="Dismiss" onClick={() => session.dismiss(n.id)}>
            ×
          </button>
        </p>
      ))}
    </div>
  );
}
