// The open room: its header and actions, the messages (older pages load as you scroll up), who is
// here, who is typing, and the composer. Message text is rendered as text, never as HTML.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { PendingSend } from '../../src/client/timeline.js';
import type { Message } from '../../src/core/types.js';
import { Journey } from './journey.js';
import { Lock } from './lock.js';
import { RoomPanel } from './room-panel.js';
import type { Session } from './session.js';

const VIA_LABEL: Record<string, string> = {
  http: 'REST',
  ws: 'WebSocket',
  tcp: 'TCP',
  udp: 'UDP',
  irc: 'IRC',
};
const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function RoomView({ session }: { session: Session }) {
  const name = session.current;
  const room = session.room(name);
  const [panel, setPanel] = useState(false);
  if (name === undefined || room === undefined)
    return (
      <section class="conversation empty" aria-label="No room open">
        <p>Pick a room on the left, or create one.</p>
      </section>
    );
  const online = session.presence.get(name) ?? [];
  const typing = session.typingIn(name);
  const member = room.role !== undefined;

  return (
    <section class="conversation" aria-labelledby="room-title">
      <header class="room-header">
        <div>
          <h2 id="room-title">
            {room.private ? <Lock /> : '# '}
            {room.name}
            {room.title && room.title !== room.name ? <span class="title"> · {room.title}</span> : null}
          </h2>
          {room.topic && <p class="topic">{room.topic}</p>}
        </div>
        <p class="presence">
          {online.length} online{online.length > 0 ? `: ${online.join(', ')}` : ''}
        </p>
        <div class="room-actions">
          {!member && !room.private && (
            <button type="button" onClick={() => void session.join(room.name)}>
              Join
            </button>
          )}
          <button type="button" aria-expanded={panel} onClick={() => setPanel(!panel)}>
            Room info
          </button>
        </div>
      </header>
      {/* Keyed by room: a draft typed in one room's settings never carries over to another. */}
      {panel && <RoomPanel key={room.name} session={session} room={room} onClose={() => setPanel(false)} />}
      <MessageList session={session} room={name} key={name} />
      <p class="typing" aria-live="polite">
        {typing.length > 0 ? `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…` : ''}
      </p>
      {member ? (
        // Keyed by room: each room keeps its own draft, and Enter never sends one room's to another.
        <Composer key={name} session={session} room={name} />
      ) : (
        <p class="join-hint">Join this room to post in it.</p>
      )}
    </section>
  );
}

function MessageList({ session, room }: { session: Session; room: string }) {
  const timeline = session.timeline(room);
  const entries = timeline.entries();
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const loading = useRef(false);
  /**
   * While an older page is on its way: where the view is, and the oldest message drawn when it
   * was asked for. Restored by the render that draws something older than that.
   */
  const anchor = useRef<{ height: number; top: number; oldest: number | undefined } | null>(null);
  const hold = (el: HTMLOListElement, oldest: number | undefined) => {
    anchor.current = { height: el.scrollHeight, top: el.scrollTop, oldest };
  };

  // Keep the view at the bottom while the user is there; keep it still when older pages load.
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    const held = anchor.current;
    if (held) {
      // Only the render that drew the older page moves the view; any other render while it is on
      // its way (a message in another room, presence) just takes the view as it now is.
      if (timeline.oldest !== held.oldest) {
        el.scrollTop = held.top + (el.scrollHeight - held.height);
        anchor.current = null;
      } else hold(el, held.oldest);
    } else if (stick.current) el.scrollTop = el.scrollHeight;
  });

  const loadOlder = async () => {
    const el = list.current;
    if (!el || loading.current || !timeline.hasOlder) return;
    loading.current = true;
    hold(el, timeline.oldest);
    try {
      await session.attempt(() => session.loadOlder());
    } finally {
      loading.current = false;
      // Nothing older came (the start, or an error): nothing to keep still.
      if (timeline.oldest === anchor.current?.oldest) anchor.current = null;
    }
  };

  // A first page shorter than the window cannot be scrolled: load more until it can.
  useEffect(() => {
    const el = list.current;
    if (el && timeline.loaded && timeline.hasOlder && el.scrollHeight <= el.clientHeight) void loadOlder();
  });

  const onScroll = () => {
    const el = list.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (anchor.current) hold(el, anchor.current.oldest);
    if (el.scrollTop < 80) void loadOlder();
    if (stick.current) session.markRead(room);
  };

  return (
    <ol
      class="messages"
      ref={list}
      onScroll={onScroll}
      aria-label="Messages"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the list scrolls; keyboard users need to reach it
      tabIndex={0}
    >
      {timeline.loaded && !timeline.hasOlder && <li class="start">The beginning of #{room}</li>}
      {entries.map((e) =>
        e.kind === 'message' ? (
          <MessageItem key={`m${e.message.seq}`} session={session} message={e.message} />
        ) : (
          <PendingItem key={`p${e.send.ref}`} session={session} room={room} send={e.send} />
        ),
      )}
    </ol>
  );
}

function MessageItem({ session, message }: { session: Session; message: Message }) {
  const [editing, setEditing] = useState(false);
  const [journey, setJourney] = useState(false);
  const mine = message.author === session.me.name;
  const owner = session.room(message.room)?.owner === session.me.name;
  const via = message.via;
  return (
    <li class={`message ${mine ? 'mine' : ''}`} data-seq={message.seq} data-author={message.author}>
      <div class="meta">
        <span class="author">{message.author}</span>
        <button
          type="button"
          class={`via via-${via}`}
          title={`Sent through the ${VIA_LABEL[via] ?? via} door: show its journey`}
          data-via={via}
          aria-expanded={journey}
          onClick={() => setJourney(!journey)}
        >
          {VIA_LABEL[via] ?? via}
        </button>
        <time dateTime={message.createdAt}>{time(message.createdAt)}</time>
        <span class="seq">
          <span class="visually-hidden">seq </span>#{message.seq}
        </span>
        {message.editedAt && !message.deleted && <span class="edited">(edited)</span>}
      </div>
      {journey && <Journey session={session} room={message.room} seq={message.seq} />}
      {message.deleted ? (
        <p class="text deleted">This message was deleted.</p>
      ) : editing ? (
        <EditForm session={session} message={message} onDone={() => setEditing(false)} />
      ) : (
        <p class="text">{message.text}</p>
      )}
      {!message.deleted && !editing && (mine || owner) && (
        <div class="message-actions">
          {mine && (
            <button type="button" onClick={() => setEditing(true)} aria-label={`Edit message ${message.seq}`}>
              Edit
            </button>
          )}
          <button
            type="button"
            onClick={() => {
              if (confirm('Delete this message?')) void session.remove(message);
            }}
            aria-label={`Delete message ${message.seq}`}
          >
            Delete
          </button>
        </div>
      )}
    </li>
  );
}

function EditForm({ session, message, onDone }: { session: Session; message: Message; onDone: () => void }) {
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const input = (ev.currentTarget as HTMLFormElement).elements.namedItem('text') as HTMLInputElement;
    const text = input.value;
    if (text.trim() === '') return onDone();
    // Closed once saved, unless more was typed while the save was on its way: that stays open.
    if ((await session.edit(message, text)) && input.value === text) onDone();
  };
  return (
    <form class="edit" onSubmit={submit} onKeyDown={(e) => e.key === 'Escape' && onDone()}>
      <label class="visually-hidden" for={`edit-${message.seq}`}>
        Edit message {message.seq}
      </label>
      {/* Uncontrolled (defaultValue): a live update redrawing the list must not put the old text
          back over what is being typed. */}
      {/* biome-ignore lint/a11y/noAutofocus: the user just asked to edit this message */}
      <input id={`edit-${message.seq}`} name="text" defaultValue={message.text} autoFocus />
      <button type="submit">Save</button>
      <button type="button" onClick={onDone}>
        Cancel
      </button>
    </form>
  );
}

function PendingItem({ session, room, send }: { session: Session; room: string; send: PendingSend }) {
  return (
    <li class={`message mine ${send.state}`} data-pending={send.ref} aria-busy={send.state === 'pending'}>
      <div class="meta">
        <span class="author">{send.author}</span>
        <span class="state">{send.state === 'pending' ? 'sending…' : 'not sent'}</span>
      </div>
      <p class="text">{send.text}</p>
      {send.state === 'failed' && (
        <div class="message-actions">
          <span class="error">{send.error}</span>
          <button type="button" onClick={() => session.retry(room, send.ref)}>
            Retry
          </button>
          <button type="button" onClick={() => session.discard(room, send.ref)}>
            Discard
          </button>
        </div>
      )}
    </li>
  );
}

function Composer({ session, room }: { session: Session; room: string }) {
  const [text, setText] = useState(() => session.draft(room));
  const type = (value: string) => {
    setText(value);
    session.keepDraft(room, value);
  };
  const send = () => {
    if (text.trim() === '') return;
    void session.send(text);
    type('');
  };
  return (
    <form
      class="composer"
      onSubmit={(ev) => {
        ev.preventDefault();
        send();
      }}
    >
      <label class="visually-hidden" for="composer">
        Message #{room}
      </label>
      <textarea
        id="composer"
        rows={1}
        value={text}
        placeholder={`Message #${room}`}
        aria-describedby="composer-hint"
        onInput={(ev) => {
          type((ev.currentTarget as HTMLTextAreaElement).value);
          session.typing();
        }}
        onKeyDown={(ev) => {
          if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
            ev.preventDefault();
            send();
          }
        }}
      />
      <span id="composer-hint" class="visually-hidden">
        Enter sends; Shift+Enter starts a new line.
      </span>
      <button type="submit">Send</button>
    </form>
  );
}
