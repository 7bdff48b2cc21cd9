// The signed-in user's view of the server: rooms, timelines, presence, typing and connection
// state, kept current from REST and the WebSocket door. Components read it and call its
// actions; it talks to the server only through the public client library.
import { type Frame, RealtimeClient, type WebSocketLike, newRef } from '../../src/client/realtime.js';
import { RestClient } from '../../src/client/rest.js';
import { Timeline } from '../../src/client/timeline.js';
import type { Member, Message, RoomSummary } from '../../src/core/types.js';
import { describeError } from './errors.js';

export type ConnectionStatus = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface Me {
  readonly name: string;
  readonly admin: boolean;
}

export interface Notice {
  readonly id: number;
  readonly text: string;
}

const TOKEN_KEY = 'porthouse.token';
/** Messages per history page. */
export const PAGE = 50;
/** How long a typing notice shows after the last one. */
const TYPING_SHOWN_MS = 4000;
/** We tell the server at most this often that we are typing (it rate-limits too). */
const TYPING_SENT_EVERY_MS = 2000;
/**
 * A pending send is retried over reconnects for this long (a server restart included) before it
 * is shown as failed; a manual retry reuses its ref, so it can never be stored twice.
 */
const PUB_TIMEOUT_MS = 10 * 60_000;
/** How often the room list is re-read (invites arrive at once over the WebSocket; this finds new public rooms). */
const ROOMS_REFRESH_MS = 20_000;
/** After a subscription lands, the room list is re-read once for every `subbed` of this moment. */
const RESYNC_DELAY_MS = 50;

export const savedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);

export class Session {
  readonly rest: RestClient;
  /** Who is signed in; `admin` follows each `ready` (an admin's right can be taken away). */
  me: Me;
  rooms: RoomSummary[] = [];
  current: string | undefined;
  status: ConnectionStatus = 'connecting';
  statusDetail = '';
  notices: Notice[] = [];
  members: Member[] = [];
  readonly timelines = new Map<string, Timeline>();
  readonly presence = new Map<string, readonly string[]>();
  readonly #typing = new Map<string, Map<string, number>>();
  readonly #drafts = new Map<string, string>();
  #membersAsked = 0;
  readonly #listeners = new Set<() => void>();
  readonly #rt: RealtimeClient;
  /** Rooms followed over the WebSocket: every room we are a member of, and the open one. */
  readonly #followed = new Set<string>();
  #lastTypingSent = 0;
  #noticeId = 0;
  #changeQueued = false;
  #typingTimer: ReturnType<typeof setInterval>;
  #roomsTimer: ReturnType<typeof setInterval>;
  /** Room-list reads started and the latest one applied: an answer older than it is stale. */
  #roomsAsked = 0;
  #roomsShown = 0;
  #resyncTimer: ReturnType<typeof setTimeout> | undefined;
  #signedOut = false;

  private constructor(rest: RestClient, me: Me) {
    this.rest = rest;
    this.me = me;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.#rt = new RealtimeClient({
      url: `${scheme}://${location.host}/v1/ws`,
      token: rest.token ?? '',
      // The DOM's handler types are narrower than WebSocketLike's; the shapes match.
      connect: (url) => new WebSocket(url) as unknown as WebSocketLike,
      pubTimeout: PUB_TIMEOUT_MS,
      onStatus: (status, detail) => {
        this.status = status;
        this.statusDetail = detail ?? '';
        if (status === 'closed' && detail?.startsWith('4401'))
          this.notify('Your session has ended: sign in again.');
        this.#changed();
      },
      onFrame: (frame) => this.#onFrame(frame),
    });
    this.#typingTimer = setInterval(() => this.#expireTyping(), 1000);
    // New public rooms are not pushed to non-members; a conditional GET (304 when unchanged) finds them.
    this.#roomsTimer = setInterval(() => void this.refreshRooms().catch(() => {}), ROOMS_REFRESH_MS);
  }

  /** Sign in with a saved token (null if it no longer works) or after a login. */
  static async start(token: string): Promise<Session | null> {
    const rest = new RestClient({ server: location.origin, token });
    let me: Me;
    try {
      me = await rest.request<Me>('GET', '/v1/me');
    } catch {
      sessionStorage.removeItem(TOKEN_KEY);
      return null;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    const session = new Session(rest, me);
    await session.refreshRooms();
    return session;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    clearInterval(this.#typingTimer);
    clearInterval(this.#roomsTimer);
    clearTimeout(this.#resyncTimer);
    this.#signedOut = true;
    this.#rt.close();
  }

  notify(text: string): void {
    this.notices = [...this.notices.slice(-2), { id: ++this.#noticeId, text }];
    this.#changed();
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
    this.#changed();
  }

  /** Run a user action, turning its failure into a notice; resolves false when it failed. */
  async attempt(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (err) {
      this.notify(describeError(err));
      return false;
    }
  }

  room(name: string | undefined): RoomSummary | undefined {
    return this.rooms.find((r) => r.name === name);
  }

  unread(room: RoomSummary): number {
    if (room.role === undefined) return 0;
    return Math.max(0, room.lastSeq - (this.#readMarks()[room.name] ?? 0));
  }

  typingIn(room: string): string[] {
    return [...(this.#typing.get(room)?.keys() ?? [])];
  }

  timeline(room: string): Timeline {
    let t = this.timelines.get(room);
    if (!t) {
      t = new Timeline(room);
      this.timelines.set(room, t);
    }
    return t;
  }

  async refreshRooms(): Promise<void> {
    const asked = ++this.#roomsAsked;
    const rooms = await this.rest.request<RoomSummary[]>('GET', '/v1/rooms');
    // Answers can overtake each other, and a room_updated frame can overtake an answer read
    // before it: neither may put an older state back.
    if (asked < this.#roomsShown) return;
    this.#roomsShown = asked;
    this.rooms = rooms.map((r) => newer(this.room(r.name), r));
    for (const room of this.rooms) if (room.role !== undefined) this.#follow(room.name, room.lastSeq);
    for (const name of this.#followed)
      if (name !== this.current && this.room(name)?.role === undefined) this.#unfollow(name);
    if (this.current !== undefined && !this.room(this.current)) this.current = undefined;
    this.#changed();
  }

  /** Show a room: its latest page from REST, then live frames from where the page ends. */
  async open(name: string): Promise<void> {
    const previous = this.current;
    this.current = name;
    this.members = [];
    this.#changed();
    if (previous !== undefined && previous !== name && this.room(previous)?.role === undefined)
      this.#unfollow(previous);
    const timeline = this.timeline(name);
    if (!timeline.loaded) {
      const page = await this.rest.history(name, { limit: PAGE });
      timeline.addPage(page, PAGE, true);
      // Another room was opened while this page was on its way: it is kept for later, but this
      // room was not seen, so it is neither marked read nor followed.
      if (this.current !== name) return;
    }
    this.#follow(name, timeline.newest ?? this.room(name)?.lastSeq ?? 0);
    this.markRead(name);
    await this.loadMembers();
  }

  async loadMembers(): Promise<void> {
    const name = this.current;
    if (name === undefined) return;
    // A read started earlier (when the room was opened) may answer after one a member_joined
    // frame started: only the latest read asked for is shown, and only in its own room.
    const asked = ++this.#membersAsked;
    let members: Member[];
    try {
      members = await this.rest.request<Member[]>('GET', `/v1/rooms/${encodeURIComponent(name)}/members`);
    } catch {
      members = [];
    }
    if (asked !== this.#membersAsked || this.current !== name) return;
    this.members = members;
    this.#changed();
  }

  /** The page before the oldest message shown; resolves false when there is none. */
  async loadOlder(): Promise<boolean> {
    const name = this.current;
    if (name === undefined) return false;
    const timeline = this.timeline(name);
    const oldest = timeline.oldest;
    if (!timeline.hasOlder || oldest === undefined || oldest <= 1) {
      timeline.hasOlder = false;
      return false;
    }
    const page = await this.rest.history(name, { before: oldest, limit: PAGE });
    timeline.addPage(page, PAGE, true);
    this.#changed();
    return page.length > 0;
  }

  send(text: string): void {
    const room = this.current;
    if (room === undefined) return;
    const ref = newRef();
    this.timeline(room).addPending({ ref, text, author: this.me.name });
    this.#changed();
    this.#publish(room, text, ref);
  }

  retry(room: string, ref: string): void {
    const send = this.timeline(room).retry(ref);
    if (!send) return;
    this.#changed();
    this.#publish(room, send.text, ref);
  }

  discard(room: string, ref: string): void {
    this.timeline(room).discard(ref);
    this.#changed();
  }

  typing(): void {
    const now = Date.now();
    if (this.current === undefined || now - this.#lastTypingSent < TYPING_SENT_EVERY_MS) return;
    this.#lastTypingSent = now;
    this.#rt.typing(this.current);
  }

  edit(message: Message, text: string): Promise<boolean> {
    return this.attempt(async () => {
      const updated = await this.rest.request<Message>('PATCH', this.#messagePath(message), { text });
      this.timeline(message.room).applyFrame({ type: 'edit', ...updated });
      this.#changed();
    });
  }

  remove(message: Message): Promise<boolean> {
    return this.attempt(async () => {
      const gone = await this.rest.request<Message>('DELETE', this.#messagePath(message));
      this.timeline(message.room).applyFrame({ type: 'del', room: gone.room, seq: gone.seq });
      this.#changed();
    });
  }

  createRoom(room: { name: string; title: string; private: boolean }): Promise<boolean> {
    const from = this.current;
    return this.attempt(async () => {
      await this.rest.createRoom(room.title ? room : { name: room.name, private: room.private });
      await this.refreshRooms();
      // Opened for its creator, unless they went to another room while it was being created.
      if (this.current === from) await this.open(room.name);
    });
  }

  join(room: string): Promise<boolean> {
    return this.attempt(async () => {
      await this.rest.join(room, this.me.name);
      await this.refreshRooms();
      await this.loadMembers();
    });
  }

  invite(room: string, user: string): Promise<boolean> {
    return this.attempt(async () => {
      await this.rest.join(room, user);
      await this.loadMembers();
    });
  }

  leave(room: string): Promise<boolean> {
    return this.attempt(async () => {
      await this.rest.request(
        'DELETE',
        `${this.#roomPath(room)}/members/${encodeURIComponent(this.me.name)}`,
      );
      this.#unfollow(room);
      if (this.current === room) this.current = undefined;
      await this.refreshRooms();
    });
  }

  updateRoom(room: string, fields: { title?: string; topic?: string }): Promise<boolean> {
    return this.attempt(async () => {
      await this.rest.request('PATCH', this.#roomPath(room), fields, {
        'content-type': 'application/merge-patch+json',
      });
      await this.refreshRooms();
    });
  }

  /** What was typed in a room's composer and not sent, kept while other rooms are open. */
  draft(room: string): string {
    return this.#drafts.get(room) ?? '';
  }

  keepDraft(room: string, text: string): void {
    if (text === '') this.#drafts.delete(room);
    else this.#drafts.set(room, text);
  }

  markRead(room: string): void {
    const summary = this.room(room);
    if (!summary) return;
    const marks = this.#readMarks();
    if ((marks[room] ?? 0) >= summary.lastSeq) return;
    marks[room] = summary.lastSeq;
    localStorage.setItem(this.#readKey(), JSON.stringify(marks));
    this.#changed();
  }

  #publish(room: string, text: string, ref: string): void {
    this.#rt.publish(room, text, ref).then(
      ({ seq }) => {
        this.timeline(room).acknowledge(ref, seq);
        this.#bumpLastSeq(room, seq);
        this.#changed();
      },
      (err: { code?: string; message?: string }) => {
        if (err.code === 'superseded') return;
        this.timeline(room).fail(ref, describeError(err));
        this.#changed();
      },
    );
  }

  #follow(room: string, since: number): void {
    if (this.#followed.has(room)) return;
    this.#followed.add(room);
    this.#rt.subscribe(room, since);
  }

  #unfollow(room: string): void {
    if (!this.#followed.delete(room)) return;
    this.#rt.unsubscribe(room);
    this.presence.delete(room);
  }

  #onFrame(frame: Frame): void {
    const room = 'room' in frame ? frame.room : undefined;
    switch (frame.type) {
      case 'msg':
      case 'edit':
      case 'del':
        if (room === undefined) break;
        this.timeline(room).applyFrame(frame);
        if (frame.type === 'msg') {
          this.#bumpLastSeq(room, frame.seq);
          this.#typing.get(room)?.delete(frame.author);
          if (room === this.current && document.visibilityState === 'visible') this.markRead(room);
        }
        break;
      case 'presence':
        this.presence.set(frame.room, frame.online);
        break;
      case 'ready':
        // After a `rights_changed` close the client reconnects with the same token, which no
        // longer carries the admin right: the page stops offering what needs it.
        if (frame.admin !== this.me.admin) this.me = { ...this.me, admin: frame.admin };
        break;
      case 'typing': {
        if (frame.user === this.me.name) break;
        let users = this.#typing.get(frame.room);
        if (!users) {
          users = new Map();
          this.#typing.set(frame.room, users);
        }
        users.set(frame.user, Date.now() + TYPING_SHOWN_MS);
        break;
      }
      case 'member_joined':
      case 'member_left':
        if (frame.user === this.me.name) void this.refreshRooms().catch(() => {});
        if (room === this.current) void this.loadMembers();
        break;
      case 'room_updated': {
        // Merged as a REST read is: older than what is shown (a room read after this change),
        // what is shown stays.
        const { title, topic, private: isPrivate, updatedAt } = frame;
        this.rooms = this.rooms.map((r) =>
          r.name === room ? newer(r, { ...r, title, topic, private: isPrivate, updatedAt }) : r,
        );
        break;
      }
      case 'subbed':
        if (room !== undefined) this.#resync(room);
        break;
      case 'unsubbed':
      case 'room_deleted':
        if (room === undefined) break;
        this.#followed.delete(room);
        if (frame.type === 'room_deleted' || this.room(room)?.private) {
          if (this.current === room) this.current = undefined;
          void this.refreshRooms().catch(() => {});
        }
        break;
      case 'error':
        // Errors answering a pub are shown on the message itself.
        if (frame.ref === undefined) this.notify(describeError(frame));
        break;
      default:
        return;
    }
    this.#changed();
  }

  /**
   * A subscription just landed (the first time, or again after a reconnect): from here on every
   * change reaches us live, but one made before it landed (a topic set while the `sub` was on its
   * way, an edit while the connection was down: a resume replays new messages, not edits) did
   * not. Read the room list and the room's latest page again; the merges keep whatever is newer.
   */
  #resync(room: string): void {
    if (this.#signedOut) return;
    const timeline = this.timelines.get(room);
    if (timeline?.loaded)
      void this.rest.history(room, { limit: PAGE }).then(
        (page) => {
          timeline.addPage(page, PAGE, true);
          this.#changed();
        },
        () => {},
      );
    this.#resyncTimer ??= setTimeout(() => {
      this.#resyncTimer = undefined;
      void this.refreshRooms().catch(() => {});
    }, RESYNC_DELAY_MS);
  }

  #bumpLastSeq(room: string, seq: number): void {
    const summary = this.room(room);
    if (summary && seq > summary.lastSeq)
      this.rooms = this.rooms.map((r) => (r === summary ? { ...r, lastSeq: seq } : r));
  }

  #expireTyping(): void {
    const now = Date.now();
    let changed = false;
    for (const users of this.#typing.values())
      for (const [user, until] of users)
        if (until <= now) {
          users.delete(user);
          changed = true;
        }
    if (changed) this.#changed();
  }

  #readKey(): string {
    return `porthouse.read.${this.me.name}`;
  }

  #readMarks(): Record<string, number> {
    try {
      return JSON.parse(localStorage.getItem(this.#readKey()) ?? '{}') as Record<string, number>;
    } catch {
      return {};
    }
  }

  #roomPath(room: string): string {
    return `/v1/rooms/${encodeURIComponent(room)}`;
  }

  #messagePath(m: Message): string {
    return `${this.#roomPath(m.room)}/messages/${m.seq}`;
  }

  /** Listeners run once per task, however many frames arrived in it. */
  #changed(): void {
    if (this.#changeQueued) return;
    this.#changeQueued = true;
    queueMicrotask(() => {
      this.#changeQueued = false;
      for (const l of this.#listeners) l();
    });
  }
}

/** A room as read over REST, keeping what `held` knows that is newer (its fields, its last seq). */
function newer(held: RoomSummary | undefined, read: RoomSummary): RoomSummary {
  if (!held || held.createdAt !== read.createdAt) return read;
  const lastSeq = Math.max(held.lastSeq, read.lastSeq);
  if (held.updatedAt <= read.updatedAt) return { ...read, lastSeq };
  const { title, topic, private: isPrivate, updatedAt } = held;
  return { ...read, title, topic, private: isPrivate, updatedAt, lastSeq };
}

/** Log in (or register first) and start a session; throws an ApiError the caller describes. */
export async function signIn(name: string, password: string, register: boolean): Promise<Session> {
  const rest = new RestClient({ server: location.origin });
  if (register) await rest.register(name, password);
  const { token } = await rest.login(name, password);
  const session = await Session.start(token);
  if (!session) throw new Error('The new token was refused.');
  return session;
}
