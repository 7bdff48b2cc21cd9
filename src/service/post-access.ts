// Who may post where, remembered for a moment. Every pub is checked against its room (private?
// owner?) and its author's role; on a store across the network (PostgreSQL) those are two reads
// per pub, more than the append itself costs. An entry is dropped the moment any node changes
// the room or its members (their events reach every node, see bus.ts), when the bus may have
// lost events (resync), and after `ttl` ms whatever happens.
import { canPost } from '../core/authorize.js';
import type { RoomEvent } from '../bus/bus.js';
import type { Actor, Role, RoomRecord } from '../core/types.js';
import type { Store } from '../store/store.js';
import { enforce, roomFacts, visibleRoom } from './access.js';

export interface PostAccessOptions {
  /** How long (ms) an entry is trusted at most; 0 reads the store for every pub. */
  readonly ttl: number;
  /** Most rooms remembered (the oldest is dropped first). */
  readonly maxRooms: number;
  /** Most authors remembered per room. */
  readonly maxRoles: number;
}

interface Entry {
  readonly room: RoomRecord;
  readonly until: number;
  readonly roles: Map<string, Role | undefined>;
}

export class PostAccess {
  readonly #rooms = new Map<string, Entry>();
  /** Bumped whenever anything is forgotten: a read begun before then is not remembered. */
  #changes = 0;

  constructor(
    private readonly store: Store,
    private readonly options: PostAccessOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The room `actor` may post to, or the error code why not (as visibleRoom + canPost). */
  async check(actor: Actor, name: string): Promise<RoomRecord> {
    const entry = this.#fresh(name);
    if (entry?.roles.has(actor.name)) {
      enforce(canPost(actor, roomFacts(entry.room, entry.roles.get(actor.name))));
      return entry.room;
    }
    const seen = this.#changes;
    const { room, facts } = await visibleRoom(this.store, actor, name);
    if (this.options.ttl > 0 && this.#changes === seen) this.#remember(room, actor.name, facts.role);
    enforce(canPost(actor, facts));
    return room;
  }

  /** Any node changed the room or its members: read them again. */
  observe(event: RoomEvent): void {
    if (
      event.type === 'member_joined' ||
      event.type === 'member_left' ||
      event.type === 'room_updated' ||
      event.type === 'room_deleted'
    )
      this.forget(event.room);
  }

  forget(room: string): void {
    this.#rooms.delete(room);
    this.#changes++;
  }

  /** Events may have been lost: forget everything. */
  clear(): void {
    this.#rooms.clear();
    this.#changes++;
  }

  #fresh(name: string): Entry | undefined {
    const entry = this.#rooms.get(name);
    if (entry && entry.until <= this.now()) {
      this.#rooms.delete(name);
      return undefined;
    }
    return entry;
  }

  #remember(room: RoomRecord, user: string, role: Role | undefined): void {
    let entry = this.#fresh(room.name);
    if (!entry || entry.room.id !== room.id) {
      if (this.#rooms.size >= this.options.maxRooms) {
        const oldest = this.#rooms.keys().next().value;
        if (oldest !== undefined) this.#rooms.delete(oldest);
      }
      entry = { room, until: this.now() + this.options.ttl, roles: new Map() };
      this.#rooms.set(room.name, entry);
    }
    if (entry.roles.size >= this.options.maxRoles) {
      const oldest = entry.roles.keys().next().value;
      if (oldest !== undefined) entry.roles.delete(oldest);
    }
    entry.roles.set(user, role);
  }
}
