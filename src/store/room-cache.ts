// Rooms and member roles held in memory by the store that makes every write to them, so the
// access check every request starts with (which room, what is my role) reads no database.
// The owning store drops an entry inside each write that changes it (the next read refills it),
// or, for an appended message, advances the room's last seq in place.
import type { Role, RoomRecord } from '../core/types.js';

export interface RoomCacheOptions {
  /** Room names (found or known missing) kept; 0 turns the cache off. */
  readonly maxRooms: number;
  /** (room, user) → role entries kept across all rooms; 0 turns role caching off. */
  readonly maxRoles: number;
}

/** A cache answer: `undefined` is a miss, `null` a cached "does not exist". */
type Cached<T> = T | null | undefined;

export class RoomCache {
  readonly #maxRooms: number;
  readonly #maxRoles: number;
  readonly #rooms = new Map<string, RoomRecord | null>();
  readonly #roles = new Map<number, Map<string, Role | null>>();
  #roleCount = 0;

  constructor(options: RoomCacheOptions) {
    this.#maxRooms = options.maxRooms;
    this.#maxRoles = options.maxRoles;
  }

  room(name: string): Cached<RoomRecord> {
    return this.#rooms.get(name);
  }

  /** Remember a room as read from the database (frozen: every reader shares the object). */
  putRoom(name: string, room: RoomRecord | undefined): void {
    if (this.#maxRooms === 0) return;
    // Oldest first out (a Map keeps insertion order): cheap, and a hot room is re-read at once.
    if (this.#rooms.size >= this.#maxRooms) this.#rooms.delete(this.#rooms.keys().next().value!);
    this.#rooms.set(name, room ? Object.freeze(room) : null);
  }

  role(roomId: number, user: string): Cached<Role> {
    return this.#roles.get(roomId)?.get(user);
  }

  putRole(roomId: number, user: string, role: Role | undefined): void {
    if (this.#maxRoles === 0) return;
    if (this.#roleCount >= this.#maxRoles) this.#dropAllRoles();
    let users = this.#roles.get(roomId);
    if (!users) {
      users = new Map();
      this.#roles.set(roomId, users);
    }
    if (!users.has(user)) this.#roleCount++;
    users.set(user, role ?? null);
  }

  /**
   * A message was appended: the cached record (if any) takes the new last seq and messages
   * version instead of being dropped. Never moves a record backwards.
   */
  advanceRoom(name: string, lastSeq: number, messagesVersion: number): void {
    const cached = this.#rooms.get(name);
    if (!cached || cached.lastSeq >= lastSeq) return;
    this.#rooms.set(name, Object.freeze({ ...cached, lastSeq, messagesVersion }));
  }

  /** Forget everything (a failed commit: what writes put here may not be in the database). */
  clear(): void {
    this.#rooms.clear();
    this.#dropAllRoles();
  }

  /** The room's record changed (fields, versions, last seq) or it was created or deleted. */
  dropRoom(name: string): void {
    this.#rooms.delete(name);
  }

  dropRole(roomId: number, user: string): void {
    const users = this.#roles.get(roomId);
    if (users?.delete(user)) this.#roleCount--;
  }

  /** The room is gone: forget every role in it (its id is never reused). */
  dropRoles(roomId: number): void {
    const users = this.#roles.get(roomId);
    if (!users) return;
    this.#roleCount -= users.size;
    this.#roles.delete(roomId);
  }

  #dropAllRoles(): void {
    this.#roles.clear();
    this.#roleCount = 0;
  }
}
