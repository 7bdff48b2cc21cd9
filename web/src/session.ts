// The signed-in user's view of the server, kept current from REST and the WebSocket door: it wires
// the client library to the frame reducer, the typing tracker and what the browser stores.
// Components read it and call its actions; it talks to the server only through the client library.
import { type Frame, RealtimeClient, type WebSocketLike, newRef } from '../../src/client/realtime.js';
import { RestClient } from '../../src/client/rest.js';
import type { Timeline } from '../../src/client/timeline.js';
import type { Member, Message, RoomSummary } from '../../src/core/types.js';
import { describeError } from './errors.js';
import {
  type ClientState,
  type Effect,
  type Me,
  bumpLastSeq,
  newer,
  reduceFrame,
  timelineOf,
} from './frame-reducer.js';
import { forgetToken, readMarks, saveReadMarks, saveToken } from './storage.js';
import { TypingTracker } from '../../src/client/typing.js';

export type ConnectionStatus = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface Notice {
  readonly id: number;
  readonly text: string;
}

/** Messages per history page. */
export const PAGE = 50;
/**
 * A pending send is retried over reconnects for this long (a server restart included) before it
 * is shown as failed; a manual retry reuses its ref, so it can never be stored twice.
 */
const PUB_TIMEOUT_MS = 10 * 60_000;
/** How often the room list is re-read (invites arrive at once over the WebSocket; this finds new public rooms). */
const ROOMS_REFRESH_MS = 20_000;
/** After a subscription lands, the room list is re-read once for every `subbed` of this moment. */
const RESYNC_DELAY_MS = 50;

export class Session {
  readonly rest: RestClient;
  status: ConnectionStatus = 'connecting';
  statusDetail = '';
  notices: Notice[] = [];
  members: Member[] = [];
  /** What frames change, kept apart so the reducer can be tested without a browser. */
  readonly #state: ClientState;
  readonly #drafts = new Map<string, string>();
  #membersAsked = 0;
  readonly #listeners = new Set<() => void>();
  readonly #rt: RealtimeClient;
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
    this.#state = {
      me,
      rooms: [],
      current: undefined,
      timelines: new Map(),
      presence: new Map(),
      followed: new Set(),
      typing: new TypingTracker(me.name),
    };
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
    this.#typingTimer = setInterval(() => {
      if (this.#state.typing.expire(Date.now())) this.#changed();
    }, 1000);
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
      forgetToken();
      return null;
    }
    saveToken(token);
    const session = new Session(rest, me);
    await session.refreshRooms();
    return session;
  }

  /** Who is signed in; `admin` follows each `ready` (an admin's right can be taken away). */
  get me(): Me {
    return this.#state.me;
  }

  get rooms(): RoomSummary[] {
    return this.#state.rooms;
  }

  /** The open room. */
  get current(): string | undefined {
    return this.#state.current;
  }

  get timelines(): ReadonlyMap<string, Timeline> {
    return this.#state.timelines;
  }

  get presence(): ReadonlyMap<string, readonly string[]> {
    return this.#state.presence;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  signOut(): void {
    forgetToken();
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
    return Math.max(0, room.lastSeq - (readMarks(this.me.name)[room.name] ?? 0));
  }

  typingIn(room: string): string[] {
    return this.#state.typing.who(room);
  }

  timeline(room: string): Timeline {
    return timelineOf(this.#state, room);
  }

  async refreshRooms(): Promise<void> {
    const asked = ++this.#roomsAsked;
    const rooms = await this.rest.request<RoomSummary[]>('GET', '/v1/rooms');
    // Answers can overtake each other, and a room_updated frame can overtake an answer read
    // before it: neither may put an older state back.
    if (asked < this.#roomsShown) return;
    this.#roomsShown = asked;
    this.#state.rooms = rooms.map((r) => newer(this.room(r.name), r));
    for (const room of this.rooms) if (room.role !== undefined) this.#follow(room.name, room.lastSeq);
    for (const name of this.#state.followed)
      if (name !== this.current && this.room(name)?.role === undefined) this.#unfollow(name);
    if (this.current !== undefined && !this.room(this.current)) this.#state.current = undefined;
    this.#changed();
  }

  /** Show a room: its latest page from REST, then live frames from where the page ends. */
  async open(name: string): Promise<void> {
    const previous = this.current;
    this.#state.current = name;
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

  /** Send over the WebSocket into the open room; resolves with its seq once acknowledged (undefined if it failed). */
  send(text: string): Promise<number | undefined> {
    const room = this.current;
    if (room === undefined) return Promise.resolve(undefined);
    const ref = newRef();
    this.timeline(room).addPending({ ref, text, author: this.me.name });
    this.#changed();
    return this.#publish(room, text, ref);
  }

  retry(room: string, ref: string): void {
    const send = this.timeline(room).retry(ref);
    if (!send) return;
    this.#changed();
    void this.#publish(room, send.text, ref);
  }

  discard(room: string, ref: string): void {
    this.timeline(room).discard(ref);
    this.#changed();
  }

  typing(): void {
    if (this.current === undefined || !this.#state.typing.shouldSend(Date.now())) return;
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
      if (this.current === room) this.#state.current = undefined;
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
    const marks = readMarks(this.me.name);
    if ((marks[room] ?? 0) >= summary.lastSeq) return;
    marks[room] = summary.lastSeq;
    saveReadMarks(this.me.name, marks);
    this.#changed();
  }

  #publish(room: string, text: string, ref: string): Promise<number | undefined> {
    return this.#rt.publish(room, text, ref).then(
      ({ seq }) => {
        this.timeline(room).acknowledge(ref, seq);
        this.#state.rooms = bumpLastSeq(this.rooms, room, seq);
        this.#changed();
        return seq;
      },
      (err: { code?: string; message?: string }) => {
        if (err.code === 'superseded') return undefined;
        this.timeline(room).fail(ref, describeError(err));
        this.#changed();
        return undefined;
      },
    );
  }

  #follow(room: string, since: number): void {
    if (this.#state.followed.has(room)) return;
    this.#state.followed.add(room);
    this.#rt.subscribe(room, since);
  }

  #unfollow(room: string): void {
    if (!this.#state.followed.delete(room)) return;
    this.#rt.unsubscribe(room);
    this.#state.presence.delete(room);
  }

  #onFrame(frame: Frame): void {
    const effects = reduceFrame(this.#state, frame, Date.now());
    if (effects === undefined) return;
    for (const effect of effects) this.#run(effect);
    this.#changed();
  }

  #run(effect: Effect): void {
    switch (effect.kind) {
      case 'arrived':
        if (document.visibilityState === 'visible') this.markRead(effect.room);
        break;
      case 'refreshRooms':
        void this.refreshRooms().catch(() => {});
        break;
      case 'loadMembers':
        void this.loadMembers();
        break;
      case 'resync':
        this.#resync(effect.room);
        break;
      case 'notify':
        this.notify(effect.text);
        break;
    }
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

/** Log in (or register first) and start a session; throws an ApiError the caller describes. */
export async function signIn(name: string, password: string, register: boolean): Promise<Session> {
  const rest = new RestClient({ server: location.origin });
  if (register) await rest.register(name, password);
  const { token } = await rest.login(name, password);
  const session = await Session.start(token);
  if (!session) throw new Error('The new token was refused.');
  return session;
}
