// The Store: the durable record of users, rooms, members and messages. Every adapter (SQLite,
// PostgreSQL) keeps the promises written on each method; test/store/contract.ts holds them to it.
import type { WriteTiming } from '../core/journey.js';
import type { Member, MessageRecord, Role, RoomRecord, UserRecord, Via } from '../core/types.js';

/** A room as the message methods need it: its never-reused id and its name. */
export interface RoomRef {
  readonly id: number;
  readonly name: string;
}

export interface NewMessage {
  readonly author: string;
  readonly text: string;
  readonly via: Via;
  /**
   * Client-chosen key (HTTP Idempotency-Key, frame `ref`). Scoped to (room, author): a second
   * append with the same key and text returns the first message; with another text it fails
   * with `idempotency_key_reused`.
   */
  readonly idempotencyKey?: string;
  /** Filled in by the store: when the append committed, and when it was durable (a journey). */
  readonly timing?: WriteTiming;
}

export interface HistoryQuery {
  /** Messages with seq > after, ascending, the first `limit`. */
  readonly after?: number;
  /** Messages with seq < before, ascending, the last `limit`. */
  readonly before?: number;
  readonly limit: number;
}

export interface RoomFields {
  readonly title: string;
  readonly topic: string;
  readonly private: boolean;
}

/**
 * Every method resolves only after its effect is durable (committed and, under the default
 * settings, fsynced), so whatever a client is told was stored survives `kill -9`. Methods fail
 * with PorthouseError codes (`room_exists`, `precondition_failed`, …) and nothing else that a
 * client should see. `ifVersion` arguments make a compare-and-set: the change happens only if
 * the row still has that version, else `precondition_failed`.
 */
export interface Store {
  readonly kind: string;

  /** Cheap round trip, for readiness. Rejects when the store cannot serve. */
  ping(): Promise<void>;
  /** Finish every queued write, then release the database. */
  close(): Promise<void>;
  /**
   * Undefined when every write committed so far survives a power loss; otherwise a promise that
   * resolves once it does (SQLite `fdatasync` mode, where a commit is readable a moment before
   * its sync). Readers that show data to clients wait for it, so no client sees a seq or a
   * version that a power loss could hand out again. Rejects with `unavailable` if that sync
   * fails, or if one ever did (nothing is promised durable after that).
   */
  untilDurable(): Promise<void> | undefined;

  /** A value set once and shared by every node (signing keys): returns the existing value if any. */
  settingOrInit(key: string, init: () => string): Promise<string>;

  /** `user_exists` if the name is taken. */
  createUser(user: { name: string; passwordHash: string | null; admin: boolean }): Promise<UserRecord>;
  getUser(name: string): Promise<UserRecord | undefined>;
  /** Set the admin flag (the command line's `user add --admin` on an existing user). */
  setAdmin(name: string, admin: boolean): Promise<void>;
  /**
   * Delete a user and every membership they hold, in one transaction; returns the rooms they
   * were a member of. `user_owns_rooms` while they own any (the rooms would be left without an
   * owner), `user_not_found` if there is no such user. Their messages stay, under their name.
   */
  deleteUser(name: string): Promise<{ rooms: string[] }>;

  /**
   * Creates the room and its owner's membership atomically; `room_exists` if the name is taken.
   * `usersHere`: the owner must be a user of this store, checked inside the write, so a room is
   * never made for a user deleted a moment before (`user_not_found`). Off for external users.
   */
  createRoom(room: RoomFields & { name: string; owner: string }, usersHere?: boolean): Promise<RoomRecord>;
  getRoom(name: string): Promise<RoomRecord | undefined>;
  /**
   * Public rooms, and private ones `user` is a member of (every room when `all`), by name, each
   * with `role` set to `user`'s role in it when a member.
   */
  listRooms(user: string, all: boolean): Promise<RoomRecord[]>;
  updateRoom(room: RoomRef, fields: RoomFields, ifVersion?: number): Promise<RoomRecord>;
  /** Deletes the room with its members, messages and idempotency keys. */
  deleteRoom(room: RoomRef, ifVersion?: number): Promise<void>;

  getRole(room: RoomRef, user: string): Promise<Role | undefined>;
  getMember(room: RoomRef, user: string): Promise<Member | undefined>;
  listMembers(room: RoomRef): Promise<Member[]>;
  /**
   * Idempotent: `created` is false when the user already was a member (the role is kept).
   * `usersHere`: as for createRoom, the user must exist at the moment of the write.
   */
  addMember(
    room: RoomRef,
    user: string,
    role: Role,
    usersHere?: boolean,
  ): Promise<{ member: Member; created: boolean }>;
  /** False when the user was not a member. */
  removeMember(room: RoomRef, user: string): Promise<boolean>;

  /**
   * Appends a message with the room's next seq: assigned atomically, starting at 1, without gaps,
   * never reused, even with many writers at once. Concurrent appends are group-committed (many
   * share one transaction and one fsync); each still succeeds or fails on its own.
   * `created` is false when an idempotency key matched an earlier message, which is returned.
   */
  appendMessage(room: RoomRef, message: NewMessage): Promise<{ message: MessageRecord; created: boolean }>;
  getMessage(room: RoomRef, seq: number): Promise<MessageRecord | undefined>;
  listMessages(room: RoomRef, query: HistoryQuery): Promise<MessageRecord[]>;
  /** `message_not_found`, `message_deleted`, or `precondition_failed`. */
  editMessage(room: RoomRef, seq: number, text: string, ifVersion?: number): Promise<MessageRecord>;
  /** Leaves a tombstone: seq kept, text dropped. Deleting a tombstone again is a no-op. */
  deleteMessage(room: RoomRef, seq: number, ifVersion?: number): Promise<MessageRecord>;

  /** Forget idempotency keys older than the window; returns how many. */
  pruneIdempotencyKeys(olderThanMs: number): Promise<number>;
}
