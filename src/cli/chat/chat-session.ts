// One person's chat: the rooms they follow and the one they talk in, what each server frame
// shows, and what each typed line does. It knows no terminal (a ChatScreen draws) and no door
// (a ChatLink carries), so one chat runs the same over WebSocket, TCP or SSE with REST.
import type { Frame } from '../../client/realtime.js';
import { ApiError, type RestClient } from '../../client/rest.js';
import { TypingTracker } from '../../client/typing.js';
import type { Message, Room } from '../../core/types.js';
import { CHAT_COMMANDS, parseChatLine } from './chat-input.js';
import type { ChatLink, ChatVia, LinkStatus } from './chat-link.js';
import { type ChatView, JSON_VIEW, type Style, textView } from './chat-lines.js';
import type { ChatScreen } from './chat-screen.js';

export interface ChatSessionOptions {
  readonly me: string;
  readonly via: ChatVia;
  readonly rest: RestClient;
  readonly screen: ChatScreen;
  readonly style: Style;
  /** JSON lines instead of text (--json). */
  readonly json?: boolean;
  /** Messages of history shown on entering a room, and per /older. */
  readonly historyLimit: number;
  /** Opens the link, given the handlers for its frames and its status. */
  readonly link: (
    onFrame: (f: Frame) => void,
    onStatus: (s: LinkStatus, detail?: string) => void,
  ) => ChatLink;
}

interface RoomState {
  /** Highest seq shown: a replayed or repeated frame at or below it is not shown again. */
  shownThrough: number;
  /** Where /older continues from (the API's Link header); undefined once nothing is older. */
  older: { before: number } | undefined;
  /** Who the last presence frame said is here; undefined before the first one. */
  online: string[] | undefined;
}

export class ChatSession {
  readonly #o: ChatSessionOptions;
  readonly #link: ChatLink;
  readonly #typing: TypingTracker;
  /** Followed rooms in the order they were entered: /part goes back to the one before. */
  readonly #rooms = new Map<string, RoomState>();
  #current = '';
  #status: LinkStatus = 'connecting';
  #outage = false;
  #ended = false;
  #endWith: (code: number) => void = () => {};
  readonly ended: Promise<number>;
  /** Sends not yet answered: a line-mode chat ends only once they are. */
  readonly #sending = new Set<Promise<unknown>>();
  /** Entering a room is a few REST calls; lines typed meanwhile wait their turn. */
  #queue: Promise<void> = Promise.resolve();
  readonly #entering = new Set<string>();
  readonly #view: ChatView;

  constructor(options: ChatSessionOptions) {
    this.#o = options;
    this.#typing = new TypingTracker(options.me);
    this.#view = options.json
      ? JSON_VIEW
      : textView(() => ({ style: options.style, current: this.#current }));
    this.ended = new Promise((resolve) => {
      this.#endWith = resolve;
    });
    this.#link = options.link(
      (f) => this.#frame(f),
      (s, d) => this.#linkStatus(s, d),
    );
  }

  get current(): string {
    return this.#current;
  }

  /** Join (if need be) and show the room's recent history, then follow it live and talk there. */
  async enter(room: string): Promise<void> {
    const { rest, me, historyLimit } = this.#o;
    if (this.#rooms.has(room)) {
      this.#current = room;
      this.#notice(`talking in #${room}`);
      this.#redrawStatus();
      return;
    }
    // Our own join is shown as the room itself, not as an invitation or an arrival: while it is
    // under way here, and (no await in between) once the room is followed.
    this.#entering.add(room);
    let join: [Room, Awaited<ReturnType<RestClient['historyPage']>>];
    try {
      await rest.join(room, me);
      join = await Promise.all([rest.room(room), rest.historyPage(room, { limit: historyLimit })]);
    } finally {
      this.#entering.delete(room);
    }
    const [info, page] = join;
    const state: RoomState = { shownThrough: 0, older: page.older, online: undefined };
    this.#rooms.set(room, state);
    this.#current = room;
    const about = [info.title && info.title !== room ? info.title : '', info.topic]
      .filter(Boolean)
      .join(' · ');
    this.#notice(`#${room}${about ? ` · ${about}` : ''}${info.private ? ' (private)' : ''}`);
    if (page.messages.length === 0) this.#notice('no messages yet');
    for (const m of page.messages) this.#show(m);
    // Everything after the last one shown is replayed first, so nothing falls between the page
    // and the subscription.
    this.#link.follow(room, state.shownThrough);
    this.#redrawStatus();
  }

  /** A line submitted at the prompt. */
  submit(line: string): void {
    this.#queue = this.#queue.then(() => this.#act(line)).catch((err) => this.#failure(err));
  }

  /** A key changed the prompt: maybe tell the room we are typing. */
  edited(text: string, now = Date.now()): void {
    if (text.trim() === '' || text.startsWith('/') || this.#status !== 'ready' || !this.#current) return;
    if (this.#typing.shouldSend(now)) this.#link.typing(this.#current);
  }

  /** Called about every second: typing notices fade. */
  tick(now = Date.now()): void {
    if (this.#typing.expire(now)) this.#redrawStatus();
  }

  /** Ends once what was typed has been sent (or failed): for input that ran out (Ctrl-D, EOF). */
  async finish(): Promise<void> {
    await this.#queue;
    await Promise.allSettled([...this.#sending]);
    this.end(0);
  }

  end(code: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#link.close();
    this.#endWith(code);
  }

  /** The status row: room, who is here, who is typing, the connection. */
  statusText(): string {
    const { style } = this.#o;
    const room = this.#rooms.get(this.#current);
    const parts = [style.bold(`#${this.#current}`)];
    if (room?.online) {
      const names = room.online.slice(0, 8).join(', ');
      parts.push(
        `${room.online.length} here${names ? `: ${names}${room.online.length > 8 ? ', …' : ''}` : ''}`,
      );
    }
    const typing = this.#typing.who(this.#current);
    if (typing.length > 0) parts.push(`${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…`);
    parts.push(this.#status === 'ready' ? style.dim(this.#o.via) : `${this.#o.via} ${this.#status}…`);
    return parts.join(style.dim(' · '));
  }

  async #act(line: string): Promise<void> {
    const action = parseChatLine(line);
    const { rest, me } = this.#o;
    switch (action.kind) {
      case 'none':
        return;
      case 'say': {
        const room = this.#current;
        const sent = this.#link.publish(room, action.text).then(
          () => {},
          (err) => this.#failure(err, 'not sent'),
        );
        this.#sending.add(sent);
        void sent.finally(() => this.#sending.delete(sent));
        this.#typing.posted(room, me);
        return;
      }
      case 'join':
        return this.enter(action.room);
      case 'part': {
        const room = this.#current;
        await rest.removeMember(room, me);
        this.#leave(room, `you left #${room}`);
        return;
      }
      case 'who': {
        const members = await rest.members(this.#current);
        const online = this.#rooms.get(this.#current)?.online;
        if (online) this.#notice(`here now: ${online.join(', ') || 'nobody'}`);
        this.#notice(
          `members of #${this.#current}: ${members.map((m) => (m.role === 'owner' ? `${m.user} (owner)` : m.user)).join(', ')}`,
        );
        return;
      }
      case 'older': {
        const state = this.#rooms.get(this.#current);
        if (!state?.older) {
          this.#notice('no older messages');
          return;
        }
        const page = await rest.historyPage(this.#current, {
          before: state.older.before,
          limit: this.#o.historyLimit,
        });
        state.older = page.older;
        const first = page.messages[0]?.seq;
        const last = page.messages.at(-1)?.seq;
        this.#notice(first === undefined ? 'no older messages' : `older: #${first}–#${last}`);
        for (const m of page.messages) this.#screen(this.#view.message(m));
        if (first !== undefined)
          this.#notice(state.older ? 'end of the older page (/older for more)' : 'the start of the room');
        return;
      }
      case 'edit':
        // Shown when the server's edit event comes back, as everyone else sees it.
        await rest.edit(this.#current, action.seq, action.text);
        return;
      case 'delete':
        await rest.deleteMessage(this.#current, action.seq);
        return;
      case 'help':
        for (const [usage, what] of CHAT_COMMANDS) this.#notice(`${usage.padEnd(16)} ${what}`);
        return;
      case 'quit':
        this.end(0);
        return;
      case 'mistake':
        this.#notice(action.message);
        return;
    }
  }

  #frame(f: Frame): void {
    if (this.#ended) return;
    const room = 'room' in f && typeof f.room === 'string' ? this.#rooms.get(f.room) : undefined;
    switch (f.type) {
      case 'msg': {
        if (!room) return;
        const { type: _type, truncated: _truncated, ...m } = f;
        this.#show(m);
        this.#typing.posted(f.room, f.author);
        this.#redrawStatus();
        return;
      }
      case 'edit': {
        if (!room) return;
        const { type: _type, ...m } = f;
        this.#screen(this.#view.edit(m));
        return;
      }
      case 'del':
        // A replayed tombstone (no `by`) of a message never shown is just a seq passing by.
        if (room && (f.by !== undefined || f.seq > room.shownThrough)) {
          this.#screen(this.#view.deleted(f.room, f.seq, f.by));
          room.shownThrough = Math.max(room.shownThrough, f.seq);
        }
        return;
      case 'presence': {
        if (!room) return;
        const before = room.online;
        room.online = [...f.online].sort();
        if (before) {
          for (const u of room.online) if (!before.includes(u)) this.#notice(`${u} is here`, f.room);
          for (const u of before) if (!room.online.includes(u)) this.#notice(`${u} went away`, f.room);
        }
        this.#redrawStatus();
        return;
      }
      case 'typing':
        if (!room) return;
        this.#typing.heard(f.room, f.user, Date.now());
        this.#redrawStatus();
        return;
      case 'member_joined':
        if (f.user === this.#o.me && (room || this.#entering.has(f.room))) return;
        if (room) this.#notice(`${f.user} joined${f.role === 'owner' ? ' as owner' : ''}`, f.room);
        else if (f.user === this.#o.me) this.#notice(`you were added to #${f.room}: /join ${f.room}`);
        return;
      case 'member_left':
        if (!room) return;
        if (f.user === this.#o.me && f.by && f.by !== f.user)
          this.#leave(f.room, `${f.by} removed you from #${f.room}`);
        else if (f.user !== this.#o.me)
          this.#notice(
            f.by && f.by !== f.user ? `${f.user} was removed by ${f.by}` : `${f.user} left`,
            f.room,
          );
        return;
      case 'room_updated':
        if (room)
          this.#notice(
            `room changed: ${[f.title && `title "${f.title}"`, `topic "${f.topic}"`, f.private ? 'private' : 'public'].filter(Boolean).join(', ')}`,
            f.room,
          );
        return;
      case 'room_deleted':
        if (room) this.#leave(f.room, `#${f.room} was deleted`);
        return;
      case 'error':
        // stream_closed is the link's own word for an SSE stream refused for good (a 4xx).
        if (f.code === 'stream_closed' && f.room && this.#rooms.has(f.room))
          this.#leave(f.room, `the server ended the stream of #${f.room}: ${f.message}`);
        else this.#notice(`error ${f.code}: ${f.message}`, f.room);
        return;
      default:
        return;
    }
  }

  #linkStatus(status: LinkStatus, detail?: string): void {
    if (this.#ended) return;
    const previous = this.#status;
    this.#status = status;
    if (status === 'reconnecting' && !this.#outage) {
      this.#outage = true;
      this.#notice(`connection lost${detail ? ` (${detail})` : ''}; reconnecting over ${this.#o.via}`);
    } else if (status === 'ready' && this.#outage) {
      this.#outage = false;
      const resumed = [...this.#rooms].map(([name, r]) => `#${name} after #${r.shownThrough}`).join(', ');
      this.#notice(`reconnected; resumed ${resumed}`);
    } else if (status === 'closed' && detail) {
      this.#notice(`the server ended the connection: ${detail}`);
      this.end(1);
      return;
    }
    if (status !== previous) this.#redrawStatus();
  }

  /** Stop following a room; talk in the one entered before it, or end when none is left. */
  #leave(room: string, why: string): void {
    this.#notice(why);
    this.#rooms.delete(room);
    this.#link.unfollow(room);
    if (this.#current !== room) return;
    const previous = [...this.#rooms.keys()].at(-1);
    if (previous === undefined) {
      this.#notice('no room left to talk in');
      this.end(0);
      return;
    }
    this.#current = previous;
    this.#notice(`talking in #${previous}`);
    this.#redrawStatus();
  }

  /** A message, once: what a page showed, a replay or a repeat after a reconnect does not show again. */
  #show(m: Message): void {
    const room = this.#rooms.get(m.room);
    if (!room || m.seq <= room.shownThrough) return;
    room.shownThrough = m.seq;
    this.#screen(this.#view.message(m));
  }

  #failure(err: unknown, what = 'failed'): void {
    const e = err as { code?: string; message?: string };
    const reason =
      err instanceof ApiError || e?.code
        ? `${e.code}: ${e.message}`
        : (err as Error)?.name === 'TypeError'
          ? 'cannot reach the server'
          : String(e?.message ?? err);
    this.#notice(`${what}: ${reason}`);
  }

  #notice(text: string, room?: string): void {
    this.#screen(this.#view.notice(text, room));
  }

  #screen(line: string): void {
    this.#o.screen.print(line);
  }

  #redrawStatus(): void {
    this.#o.screen.label(this.#o.style.bold(`[#${this.#current}] `));
    this.#o.screen.status(this.statusText());
  }
}
