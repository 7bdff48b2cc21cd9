// The hub every real-time door shares: which connection follows which room, fan-out of every
// event from the bus in seq order, resume from the store, and presence. It knows frames and
// subscribers, never sockets; connections' lifetime is in connections.ts, the frame of each
// event in event-frames.ts.
import type { Bus, InRoomEvent, RoomEvent } from '../bus/bus.js';
import { ERRORS, type ErrorCode, PorthouseError, USER_DELETED, fail } from '../core/errors.js';
import type { JourneyLog } from '../core/journey.js';
import type { MessageRecord, RoomRecord } from '../core/types.js';
import { visibleRoom } from '../service/access.js';
import type { Store } from '../store/store.js';
import { Connections } from './connections.js';
import { eventFrame, messageFrame } from './event-frames.js';
import { Outgoing } from './outgoing.js';
import { Presence } from './presence.js';
import { Reorder } from './reorder.js';
import { type Subscriber, Subscription } from './subscription.js';

export interface HubOptions {
  /** Messages read from the store per page while replaying. */
  readonly replayPageSize: number;
  /** Most subscriptions one connection may hold. */
  readonly maxSubscriptions: number;
  /** Presence changes of a room are sent at most this often (ms). */
  readonly presenceInterval: number;
  /** Longest a message that arrived ahead of its turn waits for the ones before it (ms). */
  readonly reorderWait: number;
  /** Most WebSocket and TCP connections one user may have attached on this node; 0: no limit. */
  readonly maxConnectionsPerUser?: number;
  /**
   * Longest a subscribe waits (ms) for the bus to confirm that the room's events reach this node;
   * past it the subscription goes on, and re-reads the room from the store once they do.
   */
  readonly followTimeout?: number;
  /** A hold of messages that came ahead of their turn ended (ms held; whether the wait ran out). */
  readonly onReorderHold?: (ms: number, timedOut: boolean) => void;
}

/**
 * Why a subscription read the store: `resume` (subscribed with since, or at the head), `gap`
 * (a live message came ahead of its turn: one before it was lost or late), `resync` (the bus
 * may have dropped events).
 */
export type CatchUpReason = 'resume' | 'gap' | 'resync';

export interface HubStats {
  readonly rooms: number;
  readonly subscriptions: number;
  readonly replaying: number;
  /** Messages held back until the ones before them arrive. */
  readonly held: number;
  /** Store reads begun by subscriptions since start, by reason. */
  readonly catchUps: Readonly<Record<CatchUpReason, number>>;
  /** Users with an authenticated frame connection on this node, and those connections. */
  readonly users: number;
  readonly connections: number;
}

/**
 * A page read for catch-ups, and its frames: every subscription that shares the read shares
 * them too, so each message is serialized and framed once per door, not once per subscriber.
 */
interface StorePage {
  readonly room: RoomRecord | undefined;
  readonly page: MessageRecord[];
  readonly frames: Outgoing[];
}

export class Hub {
  readonly #store: Store;
  readonly #bus: Bus;
  readonly #journeys: JourneyLog | undefined;
  readonly #options: HubOptions;
  /** room → its subscriptions on this node. */
  readonly #rooms = new Map<string, Set<Subscription>>();
  /** room → the bus's promise that its events reach this node (while it has subscriptions here). */
  readonly #following = new Map<string, Promise<void>>();
  /** connection → its subscriptions by room. */
  readonly #bySubscriber = new Map<Subscriber, Map<string, Subscription>>();
  /** Attached connections by user, the ones gone, the users just deleted. */
  readonly #connections: Connections;
  /** This node's own users per room; its changes are shared through the bus. */
  readonly #presence: Presence;
  readonly #reorder: Reorder;
  /** room → who its subscribers here were last told is online (on any node). */
  readonly #announced = new Map<string, string[]>();
  /** Rooms whose presence is being read, and whether it changed again meanwhile. */
  readonly #reading = new Map<string, boolean>();
  #unsubscribeBus: (() => void) | undefined;
  #unsubscribeResync: (() => void) | undefined;
  #replaying = 0;
  readonly #catchUps: Record<CatchUpReason, number> = { resume: 0, gap: 0, resync: 0 };
  /** Events received so far: a store read begun at epoch e has every message heard of before it. */
  #epoch = 0;
  /** Store reads in flight for catch-ups, by room and position, shared by every subscription. */
  readonly #reads = new Map<string, { epoch: number; result: Promise<StorePage> }>();

  constructor(deps: { store: Store; bus: Bus; journeys?: JourneyLog }, options: HubOptions) {
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#journeys = deps.journeys?.enabled ? deps.journeys : undefined;
    this.#options = options;
    this.#connections = new Connections(options.maxConnectionsPerUser ?? 0);
    this.#presence = new Presence(options.presenceInterval, (room, online) => this.#bus.share(room, online));
    this.#reorder = new Reorder(options.reorderWait, (event) => this.#fanOut(event), options.onReorderHold);
    this.#unsubscribeBus = this.#bus.subscribe((event) => this.#onEvent(event));
    this.#unsubscribeResync = this.#bus.onResync((rooms) => this.#resync(rooms));
  }

  stats(): HubStats {
    let subscriptions = 0;
    for (const subs of this.#rooms.values()) subscriptions += subs.size;
    return {
      rooms: this.#rooms.size,
      subscriptions,
      replaying: this.#replaying,
      held: this.#reorder.held,
      catchUps: { ...this.#catchUps },
      ...this.#connections.counts,
    };
  }

  /** The rooms a connection follows. */
  roomsOf(subscriber: Subscriber): string[] {
    return [...(this.#bySubscriber.get(subscriber)?.keys() ?? [])];
  }

  /**
   * Subscribe: the room's head seq is sent as `subbed`, then (with `since`) every stored message
   * after `since`, then live events, with no gap and no duplicate. Resolves after `subbed` was
   * queued; the replay continues in the background. Throws room_not_found and the like.
   */
  async subscribe(
    subscriber: Subscriber,
    roomName: string,
    since?: number,
    ref?: string | number,
  ): Promise<void> {
    const actor = subscriber.actor;
    if (this.#connections.wasDeleted(actor.name)) fail('token_invalid', USER_DELETED);
    const revocations = this.#connections.revocations;
    await visibleRoom(this.#store, actor, roomName);
    // An admin right taken away while the room was looked up may be what let them see it, and
    // their connections were ended before this one was registered: end this one too.
    if (actor.admin && this.#connections.revocations !== revocations) fail('rights_changed');
    if (this.#connections.wasDeleted(actor.name)) fail('token_invalid', USER_DELETED);
    // The connection may have gone while the room was looked up: registering it now would
    // leave a subscription (and presence) that nothing ever removes.
    if (this.#connections.isDropped(subscriber)) return;
    let mine = this.#bySubscriber.get(subscriber);
    if (mine?.has(roomName)) this.#remove(mine.get(roomName)!);
    mine = this.#bySubscriber.get(subscriber);
    if ((mine?.size ?? 0) >= this.#options.maxSubscriptions)
      fail('too_many_subscriptions', `At most ${this.#options.maxSubscriptions} rooms per connection.`);
    // Register before reading the head: whatever is published from now on is buffered, and
    // whatever was stored before the read is at or below the head.
    const sub = new Subscription(subscriber, roomName);
    this.#add(sub);
    let room: RoomRecord | undefined;
    try {
      // ...and the room's events from every node reach this one before the head is read.
      await this.#untilFollowing(roomName);
      room = await this.#store.getRoom(roomName);
      // The head, like every replayed page, is shown only once durable: a seq seen before its
      // sync could be handed out again, to other text, after a power loss.
      await this.#store.untilDurable();
    } catch (err) {
      this.#remove(sub);
      throw err;
    }
    if (!room || sub.closed) {
      this.#remove(sub);
      if (!room) fail('room_not_found');
      return;
    }
    const head = room.lastSeq;
    subscriber.send(
      new Outgoing(
        ref === undefined
          ? { type: 'subbed', room: roomName, seq: head }
          : { type: 'subbed', room: roomName, seq: head, ref },
      ),
    );
    // Who the room was last told of, and this user: the exact list follows within an interval.
    const here = this.#presence.join(roomName, actor.name, sub);
    const online = [...new Set([...(this.#announced.get(roomName) ?? []), ...here])].sort();
    subscriber.send(new Outgoing({ type: 'presence', room: roomName, online }));
    // A `since` beyond the head (a room deleted and created again) means "from the head".
    sub.lastSeq = since === undefined ? head : Math.min(since, head);
    void this.#catchUp(sub, 'resume');
  }

  unsubscribe(subscriber: Subscriber, room: string): boolean {
    const sub = this.#bySubscriber.get(subscriber)?.get(room);
    if (!sub) return false;
    this.#remove(sub);
    return true;
  }

  /**
   * An authenticated connection that should hear of rooms its user is added to (`member_joined`
   * about themselves) even where it follows nothing yet. `drop` forgets it. Returns the error it
   * was ended with instead (its user was deleted, or already has the most connections allowed).
   */
  attach(subscriber: Subscriber): ErrorCode | undefined {
    return this.#connections.attach(subscriber);
  }

  /** The connection is gone: end all its subscriptions. */
  drop(subscriber: Subscriber): void {
    this.#connections.detach(subscriber);
    const mine = this.#bySubscriber.get(subscriber);
    if (!mine) return;
    for (const sub of [...mine.values()]) this.#remove(sub);
  }

  close(): void {
    this.#unsubscribeBus?.();
    this.#unsubscribeBus = undefined;
    this.#unsubscribeResync?.();
    this.#unsubscribeResync = undefined;
    for (const subs of [...this.#rooms.values()]) for (const sub of [...subs]) this.#remove(sub);
    this.#following.clear();
    this.#connections.clear();
    this.#presence.close();
    this.#reorder.close();
  }

  #add(sub: Subscription): void {
    let subs = this.#rooms.get(sub.room);
    if (!subs) {
      subs = new Set();
      this.#rooms.set(sub.room, subs);
      this.#following.set(sub.room, this.#bus.follow(sub.room));
    }
    subs.add(sub);
    let mine = this.#bySubscriber.get(sub.subscriber);
    if (!mine) {
      mine = new Map();
      this.#bySubscriber.set(sub.subscriber, mine);
    }
    mine.set(sub.room, sub);
  }

  #remove(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    const subs = this.#rooms.get(sub.room);
    if (subs?.delete(sub) && subs.size === 0) {
      this.#rooms.delete(sub.room);
      this.#following.delete(sub.room);
      this.#bus.unfollow(sub.room);
      this.#announced.delete(sub.room);
      this.#reorder.forget(sub.room);
    }
    const mine = this.#bySubscriber.get(sub.subscriber);
    if (mine?.get(sub.room) === sub) {
      mine.delete(sub.room);
      if (mine.size === 0) this.#bySubscriber.delete(sub.subscriber);
    }
    this.#presence.leave(sub.room, sub.subscriber.actor.name, sub);
  }

  /**
   * Wait, at most followTimeout, for the bus to carry the room's events here. Past it, whatever
   * was published before the bus caught up is read from the store once it has.
   */
  async #untilFollowing(room: string): Promise<void> {
    const following = this.#following.get(room);
    if (!following) return;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      following.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#options.followTimeout ?? 2000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (late)
      void following.then(() => {
        if (this.#following.get(room) === following) this.#resync([room]);
      });
  }

  /**
   * Read the store from sub.lastSeq until the subscription has everything, then go live. Pages
   * wait for the connection to drain, so replaying a long history cannot pile up in memory.
   */
  async #catchUp(sub: Subscription, reason: CatchUpReason): Promise<void> {
    this.#catchUps[reason]++;
    this.#replaying++;
    try {
      for (;;) {
        let progressed = false;
        for (;;) {
          const { room, page, frames } = await this.#read(sub.room, sub.lastSeq);
          if (sub.closed || !room) return;
          for (let i = 0; i < page.length; i++) sub.replayed(page[i]!.seq, frames[i]!);
          if (page.length > 0) progressed = true;
          if (page.length < this.#options.replayPageSize) break;
          await sub.subscriber.drained?.();
          if (sub.closed) return;
        }
        // A gap the store cannot fill (its room was deleted and created again) is skipped
        // rather than waited on forever.
        if (!sub.drainPending()) return;
        if (!progressed) {
          const next = sub.pending?.[0]?.seq;
          if (next !== undefined) sub.lastSeq = next - 1;
        }
      }
    } catch {
      // The store failed mid-replay: end the subscription; the client resumes with since.
      this.#remove(sub);
      sub.subscriber.send(
        new Outgoing({
          type: 'error',
          code: 'unavailable',
          message: 'Replay failed; subscribe again with since.',
          room: sub.room,
        }),
      );
      sub.subscriber.send(new Outgoing({ type: 'unsubbed', room: sub.room }));
    } finally {
      this.#replaying--;
    }
  }

  /**
   * The room and a page of its messages after `after`, read once for every subscription that
   * needs the same page: a gap seen by a room's hundred subscribers costs one query, not a
   * hundred. A read already in flight is shared only if no event arrived since it began, so it
   * has everything the caller has heard of and cannot miss what the caller is waiting for.
   */
  #read(room: string, after: number) {
    const key = `${after}\n${room}`;
    const inFlight = this.#reads.get(key);
    if (inFlight && inFlight.epoch === this.#epoch) return inFlight.result;
    const read = { epoch: this.#epoch, result: this.#readNow(room, after) };
    this.#reads.set(key, read);
    const done = () => {
      if (this.#reads.get(key) === read) this.#reads.delete(key);
    };
    read.result.then(done, done);
    return read.result;
  }

  async #readNow(room: string, after: number): Promise<StorePage> {
    const record = await this.#store.getRoom(room);
    if (!record) return { room: undefined, page: [], frames: [] };
    const page = await this.#store.listMessages(record, { after, limit: this.#options.replayPageSize });
    await this.#store.untilDurable();
    return { room: record, page, frames: page.map(messageFrame) };
  }

  #broadcast(room: string, out: Outgoing): void {
    const subs = this.#rooms.get(room);
    if (subs) for (const sub of subs) sub.offer(out);
  }

  #onEvent(event: RoomEvent): void {
    this.#epoch++;
    if (event.type === 'user_deleted') {
      this.#endUser(event.user);
      return;
    }
    if (event.type === 'user_changed') {
      // Their connections were opened with the right now gone (admins see private rooms): they
      // reconnect, and their token is read again.
      if (event.admin) return;
      this.#connections.rightsRevoked();
      for (const subscriber of this.#connectionsOf(event.user)) {
        this.drop(subscriber);
        subscriber.end?.('rights_changed', ERRORS.rights_changed.title);
      }
      return;
    }
    if (event.type === 'member_joined') this.#tellNewMember(event.room, event.member.user, event.member.role);
    if (!this.#rooms.has(event.room)) return;
    // Ephemeral notices need no order; stored events are put back in seq order first.
    if (event.type === 'presence') void this.#readPresence(event.room);
    else if (event.type === 'typing') this.#fanOut(event);
    else this.#reorder.push(event);
  }

  /** The user's connections on this node: attached, or holding subscriptions. */
  #connectionsOf(user: string): Set<Subscriber> {
    const theirs = new Set(this.#connections.of(user));
    for (const subscriber of this.#bySubscriber.keys())
      if (subscriber.actor.name === user) theirs.add(subscriber);
    return theirs;
  }

  /** A deleted user's connections on this node end (their token no longer opens anything). */
  #endUser(user: string): void {
    this.#connections.userDeleted(user);
    for (const subscriber of this.#connectionsOf(user)) {
      this.drop(subscriber);
      subscriber.end?.('token_invalid', USER_DELETED);
    }
  }

  #fanOut(event: InRoomEvent): void {
    const subs = this.#rooms.get(event.room);
    if (!subs) return;
    switch (event.type) {
      case 'msg': {
        const out = messageFrame(event.message);
        // Its journey here: the one begun by the door that took it, or one for its fan-out alone.
        if (this.#journeys) out.journey = this.#journeys.remote(event.room, event.message.seq);
        for (const sub of subs) if (sub.offer(out)) void this.#catchUp(sub, 'gap');
        return;
      }
      case 'presence':
        return;
      case 'typing': {
        const out = eventFrame(event);
        // Not to the typist's own connections.
        for (const sub of subs) if (sub.subscriber.actor.name !== event.user) sub.offer(out);
        return;
      }
    }
    this.#broadcast(event.room, eventFrame(event));
    if (event.type === 'member_left') void this.#recheck(event.room, event.user);
    else if (event.type === 'room_updated' && event.value.private) void this.#recheck(event.room);
    else if (event.type === 'room_deleted') for (const sub of [...subs]) this.#remove(sub);
  }

  /** The bus may have dropped events: every live subscription re-reads its room from the store. */
  #resync(rooms: readonly string[] | undefined): void {
    for (const room of rooms ?? [...this.#rooms.keys()]) {
      this.#reorder.forget(room);
      const subs = this.#rooms.get(room);
      if (subs) for (const sub of subs) if (sub.rewind()) void this.#catchUp(sub, 'resync');
      if (subs) void this.#readPresence(room);
    }
  }

  /** Someone came or went somewhere: read who is online now and tell the room if it differs. */
  async #readPresence(room: string): Promise<void> {
    if (this.#reading.has(room)) {
      this.#reading.set(room, true);
      return;
    }
    this.#reading.set(room, false);
    try {
      for (;;) {
        const online = await this.#bus.online(room);
        const again = this.#reading.get(room);
        this.#reading.set(room, false);
        if (!this.#rooms.has(room)) return;
        const before = this.#announced.get(room);
        if (!before || before.length !== online.length || before.some((u, i) => u !== online[i])) {
          this.#announced.set(room, online);
          this.#broadcast(room, new Outgoing({ type: 'presence', room, online }));
        }
        if (!again) return;
      }
    } catch {
      // The bus answers from what this node knows when Redis is away; nothing else to do.
    } finally {
      this.#reading.delete(room);
    }
  }

  /** The added user's connections that do not follow the room hear of it too (an invite). */
  #tellNewMember(room: string, user: string, role: string): void {
    const conns = this.#connections.of(user);
    if (conns.size === 0) return;
    const out = new Outgoing({ type: 'member_joined', room, user, role });
    for (const conn of conns) if (!this.#bySubscriber.get(conn)?.has(room)) conn.send(out);
  }

  /** After a leave or a switch to private: end the subscriptions that may no longer see it. */
  async #recheck(room: string, onlyUser?: string): Promise<void> {
    const subs = this.#rooms.get(room);
    if (!subs) return;
    for (const sub of [...subs]) {
      const actor = sub.subscriber.actor;
      if (onlyUser !== undefined && actor.name !== onlyUser) continue;
      try {
        await visibleRoom(this.#store, actor, room);
      } catch (err) {
        if (!(err instanceof PorthouseError) || sub.closed) continue;
        this.#remove(sub);
        sub.subscriber.send(new Outgoing({ type: 'unsubbed', room }));
      }
    }
  }
}
