// The embedded Store: one SQLite file in WAL mode under the data directory. better-sqlite3 is
// synchronous, so reads answer straight away and every write goes through GroupCommit, which
// shares one transaction (and one fsync) among the writes of an event-loop turn.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Database } from './sqlite-driver.js';
import { PorthouseError } from '../core/errors.js';
import type { Member, MessageRecord, Role, RoomRecord, UserRecord } from '../core/types.js';
import { type BatchStats, GroupCommit } from './group-commit.js';
import { WalSync } from './wal-sync.js';
import { RoomCache, type RoomCacheOptions } from './room-cache.js';
import {
  type MessageRow,
  type RoomRow,
  iso,
  newMessageRecord,
  textHash,
  toMember,
  toMessage,
  toRoom,
  toUser,
  type UserRow,
  type MemberRow,
} from './rows.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import type { HistoryQuery, NewMessage, RoomFields, RoomRef, Store } from './store.js';

export interface SqliteStoreOptions {
  /** Directory holding porthouse.db (created if missing); ':memory:' for a throwaway store. */
  readonly dir: string;
  readonly synchronous: 'full' | 'fdatasync' | 'normal';
  readonly maxBatch: number;
  readonly onBatch?: (stats: BatchStats) => void;
  /** `fdatasync` only: seconds each committed batch waited for the log to reach the disk. */
  readonly onSync?: (seconds: number) => void;
  /**
   * The disk failed a WAL sync (`fdatasync` mode) or a commit's own write or fsync (SQLITE_IOERR,
   * any mode), so the store refuses every write from now on. Called once.
   */
  readonly onDiskFailure?: (err: Error) => void;
  /** `fdatasync` only, for tests: wraps each WAL sync, e.g. to hold it while a read is tried. */
  readonly wrapSync?: (sync: () => Promise<void>) => Promise<void>;
  /**
   * Rooms and roles kept in memory (default: off). Only safe while this store makes every write
   * to rooms and members, i.e. one serving process per data directory.
   */
  readonly cache?: RoomCacheOptions;
}

interface ListedRoomRow extends RoomRow {
  my_role: string | null;
}

const syncWith = (sync: () => Promise<void>, wrap: SqliteStoreOptions['wrapSync']): (() => Promise<void>) =>
  wrap ? () => wrap(sync) : sync;

const isUniqueViolation = (err: unknown) =>
  typeof err === 'object' &&
  err !== null &&
  String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #db: Database;
  readonly #writes: GroupCommit;
  readonly #walSync: WalSync | undefined;
  readonly #q;
  readonly #cache: RoomCache;

  constructor(options: SqliteStoreOptions) {
    let file = ':memory:';
    if (options.dir !== ':memory:') {
      mkdirSync(options.dir, { recursive: true });
      file = join(options.dir, 'porthouse.db');
    }
    const db = new Database(file);
    this.#db = db;
    db.pragma('journal_mode = WAL');
    // `fdatasync`: SQLite commits without syncing and WalSync makes the log durable off the
    // event loop before any write is acknowledged.
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    if (options.synchronous === 'fdatasync' && file !== ':memory:') this.#walSync = new WalSync(file);
    db.pragma('foreign_keys = ON');
    // The command line (user add, token) may write while a node runs; wait rather than fail.
    db.pragma('busy_timeout = 5000');
    migrate(db);
    this.#cache = new RoomCache(options.cache ?? { maxRooms: 0, maxRoles: 0 });
    const walSync = this.#walSync;
    this.#writes = new GroupCommit(db, {
      maxBatch: options.maxBatch,
      // A commit that failed took back what its writes had put in the cache.
      onFailure: () => this.#cache.clear(),
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      ...(walSync ? { sync: syncWith(() => walSync.sync(), options.wrapSync) } : {}),
      ...(options.onSync ? { onSync: options.onSync } : {}),
      ...(options.onDiskFailure ? { onBroken: options.onDiskFailure } : {}),
    });
    this.#q = {
      ping: db.prepare('SELECT 1'),
      getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
      putSetting: db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)'),
      insertUser: db.prepare(
        'INSERT INTO users (name, password_hash, admin, created_at) VALUES (?, ?, ?, ?)',
      ),
      getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?'),
      setAdmin: db.prepare('UPDATE users SET admin = ? WHERE name = ?'),
      insertRoom: db.prepare<unknown[], RoomRow>(
        `INSERT INTO rooms (name, title, topic, private, owner, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      ),
      getRoom: db.prepare<[string], RoomRow>('SELECT * FROM rooms WHERE name = ?'),
      getRoomById: db.prepare<[number], RoomRow>('SELECT * FROM rooms WHERE id = ?'),
      listRooms: db.prepare<[string], ListedRoomRow>(
        `SELECT r.*, m.role AS my_role FROM rooms r LEFT JOIN members m ON m.room_id = r.id AND m.user = ?
         WHERE r.private = 0 OR m.user IS NOT NULL ORDER BY r.name`,
      ),
      listAllRooms: db.prepare<[string], ListedRoomRow>(
        `SELECT r.*, m.role AS my_role FROM rooms r LEFT JOIN members m ON m.room_id = r.id AND m.user = ?
         ORDER BY r.name`,
      ),
      updateRoom: db.prepare<unknown[], RoomRow>(
        // updated_at only moves forward (a clock stepping back, or another node's), so clients can
        // order a room read over REST against a room_updated frame by it.
        `UPDATE rooms SET title = ?, topic = ?, private = ?, updated_at = MAX(?, updated_at + 1),
         version = version + 1 WHERE id = ? RETURNING *`,
      ),
      deleteRoom: db.prepare('DELETE FROM rooms WHERE id = ?'),
      getRole: db.prepare<[number, string], { role: string }>(
        'SELECT role FROM members WHERE room_id = ? AND user = ?',
      ),
      getMember: db.prepare<[number, string], MemberRow>(
        'SELECT * FROM members WHERE room_id = ? AND user = ?',
      ),
      listMembers: db.prepare<[number], MemberRow>(
        'SELECT * FROM members WHERE room_id = ? ORDER BY joined_at, user',
      ),
      insertMember: db.prepare(
        'INSERT OR IGNORE INTO members (room_id, user, role, joined_at) VALUES (?, ?, ?, ?)',
      ),
      deleteMember: db.prepare('DELETE FROM members WHERE room_id = ? AND user = ?'),
      ownedRooms: db.prepare<[string], { name: string }>(
        'SELECT name FROM rooms WHERE owner = ? ORDER BY name',
      ),
      roomsOfUser: db.prepare<[string], { id: number; name: string }>(
        'SELECT r.id, r.name FROM members m JOIN rooms r ON r.id = m.room_id WHERE m.user = ? ORDER BY r.name',
      ),
      deleteMemberships: db.prepare('DELETE FROM members WHERE user = ?'),
      deleteUser: db.prepare('DELETE FROM users WHERE name = ?'),
      reserveName: db.prepare('INSERT OR IGNORE INTO deleted_users (name, deleted_at) VALUES (?, ?)'),
      nameDeleted: db.prepare<[string], { name: string }>('SELECT name FROM deleted_users WHERE name = ?'),
      bumpMembers: db.prepare('UPDATE rooms SET members_version = members_version + 1 WHERE id = ?'),
      nextSeq: db.prepare<[number], { last_seq: number; messages_version: number }>(
        `UPDATE rooms SET last_seq = last_seq + 1, messages_version = messages_version + 1
         WHERE id = ? RETURNING last_seq, messages_version`,
      ),
      bumpMessages: db.prepare('UPDATE rooms SET messages_version = messages_version + 1 WHERE id = ?'),
      insertMessage: db.prepare(
        'INSERT INTO messages (room_id, seq, id, author, text, via, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      getMessage: db.prepare<[number, number], MessageRow>(
        'SELECT * FROM messages WHERE room_id = ? AND seq = ?',
      ),
      editMessage: db.prepare<unknown[], MessageRow>(
        // edited_at only moves forward, like a room's updated_at: clients keep the later edit by it.
        `UPDATE messages SET text = ?, edited_at = MAX(?, COALESCE(edited_at, created_at) + 1),
         version = version + 1 WHERE room_id = ? AND seq = ? RETURNING *`,
      ),
      tombstone: db.prepare<unknown[], MessageRow>(
        `UPDATE messages SET text = NULL, deleted = 1, version = version + 1
         WHERE room_id = ? AND seq = ? RETURNING *`,
      ),
      latest: db.prepare<[number, number], MessageRow>(
        'SELECT * FROM (SELECT * FROM messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
      ),
      after: db.prepare<[number, number, number], MessageRow>(
        'SELECT * FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      before: db.prepare<[number, number, number], MessageRow>(
        'SELECT * FROM (SELECT * FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
      ),
      between: db.prepare<[number, number, number, number], MessageRow>(
        'SELECT * FROM messages WHERE room_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?',
      ),
      getKey: db.prepare<[number, string, string], { seq: number; text_hash: string }>(
        'SELECT seq, text_hash FROM idempotency_keys WHERE room_id = ? AND user = ? AND key = ?',
      ),
      putKey: db.prepare(
        'INSERT INTO idempotency_keys (room_id, user, key, seq, text_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      pruneKeys: db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?'),
    };
  }

  async ping(): Promise<void> {
    // After a failed WAL sync nothing can be promised durable: not ready until restarted.
    if (this.#writes.broken) await this.#writes.untilSynced(); // rejects: unavailable
    this.#q.ping.get();
  }

  untilDurable(): Promise<void> | undefined {
    return this.#writes.untilSynced();
  }

  async close(): Promise<void> {
    this.#writes.close();
    await this.#walSync?.close();
    if (this.#db.open) this.#db.close();
  }

  settingOrInit(key: string, init: () => string): Promise<string> {
    return this.#writes.run(() => {
      const row = this.#q.getSetting.get(key);
      if (row) return row.value;
      const value = init();
      this.#q.putSetting.run(key, value);
      return value;
    });
  }

  createUser(user: { name: string; passwordHash: string | null; admin: boolean }): Promise<UserRecord> {
    return this.#writes.run(() => {
      const now = Date.now();
      if (this.#q.nameDeleted.get(user.name))
        throw new PorthouseError(
          'user_exists',
          'This name belonged to a deleted user and is not given out again.',
        );
      try {
        this.#q.insertUser.run(user.name, user.passwordHash, user.admin ? 1 : 0, now);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PorthouseError('user_exists');
        throw err;
      }
      return { name: user.name, admin: user.admin, createdAt: iso(now), passwordHash: user.passwordHash };
    });
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = this.#q.getUser.get(name);
    return row && toUser(row);
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    await this.#writes.run(() => {
      if (this.#q.setAdmin.run(admin ? 1 : 0, name).changes === 0) throw new PorthouseError('user_not_found');
    });
  }

  deleteUser(name: string): Promise<{ rooms: string[] }> {
    return this.#writes.run(() => {
      const owned = this.#q.ownedRooms.all(name).map((r) => r.name);
      if (owned.length > 0)
        throw new PorthouseError('user_owns_rooms', `Delete these rooms first: ${owned.join(', ')}.`);
      const rooms = this.#q.roomsOfUser.all(name);
      if (this.#q.deleteUser.run(name).changes === 0) throw new PorthouseError('user_not_found');
      this.#q.reserveName.run(name, Date.now());
      this.#q.deleteMemberships.run(name);
      for (const room of rooms) this.#changedMembers(room, name);
      return { rooms: rooms.map((r) => r.name) };
    });
  }

  createRoom(room: RoomFields & { name: string; owner: string }, usersHere = false): Promise<RoomRecord> {
    return this.#writes.run(() => {
      if (usersHere && !this.#q.getUser.get(room.owner)) throw new PorthouseError('user_not_found');
      const now = Date.now();
      let row: RoomRow;
      try {
        row = this.#q.insertRoom.get(
          room.name,
          room.title,
          room.topic,
          room.private ? 1 : 0,
          room.owner,
          now,
          now,
        )!;
      } catch (err) {
        if (isUniqueViolation(err)) throw new PorthouseError('room_exists');
        throw err;
      }
      this.#q.insertMember.run(row.id, room.owner, 'owner', now);
      this.#cache.dropRoom(room.name);
      return toRoom(row);
    });
  }

  async getRoom(name: string): Promise<RoomRecord | undefined> {
    const cached = this.#cache.room(name);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.#q.getRoom.get(name);
    const room = row && toRoom(row);
    this.#cache.putRoom(name, room);
    return room;
  }

  async listRooms(user: string, all: boolean): Promise<RoomRecord[]> {
    return (all ? this.#q.listAllRooms : this.#q.listRooms).all(user).map((row) => {
      const room = toRoom(row);
      if (row.my_role !== null) room.role = row.my_role as Role;
      return room;
    });
  }

  #roomAt(room: RoomRef, ifVersion: number | undefined): RoomRow {
    const row = this.#q.getRoomById.get(room.id);
    if (!row) throw new PorthouseError('room_not_found');
    if (ifVersion !== undefined && row.version !== ifVersion) throw new PorthouseError('precondition_failed');
    return row;
  }

  updateRoom(room: RoomRef, fields: RoomFields, ifVersion?: number): Promise<RoomRecord> {
    return this.#writes.run(() => {
      this.#roomAt(room, ifVersion);
      this.#cache.dropRoom(room.name);
      return toRoom(
        this.#q.updateRoom.get(fields.title, fields.topic, fields.private ? 1 : 0, Date.now(), room.id)!,
      );
    });
  }

  async deleteRoom(room: RoomRef, ifVersion?: number): Promise<void> {
    await this.#writes.run(() => {
      this.#roomAt(room, ifVersion);
      this.#q.deleteRoom.run(room.id);
      this.#cache.dropRoom(room.name);
      this.#cache.dropRoles(room.id);
    });
  }

  async getRole(room: RoomRef, user: string): Promise<Role | undefined> {
    const cached = this.#cache.role(room.id, user);
    if (cached !== undefined) return cached ?? undefined;
    const role = this.#q.getRole.get(room.id, user)?.role as Role | undefined;
    this.#cache.putRole(room.id, user, role);
    return role;
  }

  async getMember(room: RoomRef, user: string): Promise<Member | undefined> {
    const row = this.#q.getMember.get(room.id, user);
    return row && toMember(room.name, row);
  }

  async listMembers(room: RoomRef): Promise<Member[]> {
    return this.#q.listMembers.all(room.id).map((r) => toMember(room.name, r));
  }

  addMember(
    room: RoomRef,
    user: string,
    role: Role,
    usersHere = false,
  ): Promise<{ member: Member; created: boolean }> {
    return this.#writes.run(() => {
      this.#roomAt(room, undefined);
      if (usersHere && !this.#q.getUser.get(user)) throw new PorthouseError('user_not_found');
      const created = this.#q.insertMember.run(room.id, user, role, Date.now()).changes > 0;
      if (created) this.#changedMembers(room, user);
      return { member: toMember(room.name, this.#q.getMember.get(room.id, user)!), created };
    });
  }

  removeMember(room: RoomRef, user: string): Promise<boolean> {
    return this.#writes.run(() => {
      const removed = this.#q.deleteMember.run(room.id, user).changes > 0;
      if (removed) this.#changedMembers(room, user);
      return removed;
    });
  }

  #changedMembers(room: RoomRef, user: string): void {
    this.#q.bumpMembers.run(room.id);
    this.#cache.dropRoom(room.name);
    this.#cache.dropRole(room.id, user);
  }

  appendMessage(room: RoomRef, message: NewMessage): Promise<{ message: MessageRecord; created: boolean }> {
    const key = message.idempotencyKey;
    const hash = key === undefined ? '' : textHash(message.text);
    return this.#writes.run(() => {
      if (key !== undefined) {
        const seen = this.#q.getKey.get(room.id, message.author, key);
        if (seen) {
          if (seen.text_hash !== hash) throw new PorthouseError('idempotency_key_reused');
          return {
            message: toMessage(room.name, this.#q.getMessage.get(room.id, seen.seq)!),
            created: false,
          };
        }
      }
      const next = this.#q.nextSeq.get(room.id);
      if (!next) throw new PorthouseError('room_not_found');
      const now = Date.now();
      const id = randomUUID();
      this.#q.insertMessage.run(room.id, next.last_seq, id, message.author, message.text, message.via, now);
      if (key !== undefined) this.#q.putKey.run(room.id, message.author, key, next.last_seq, hash, now);
      // Not dropped: every post starts by reading its room, and a busy room would be read from
      // the database once per message.
      this.#cache.advanceRoom(room.name, next.last_seq, next.messages_version);
      return { message: newMessageRecord(room.name, next.last_seq, id, message, now), created: true };
    }, message.timing);
  }

  async getMessage(room: RoomRef, seq: number): Promise<MessageRecord | undefined> {
    const row = this.#q.getMessage.get(room.id, seq);
    return row && toMessage(room.name, row);
  }

  async listMessages(room: RoomRef, query: HistoryQuery): Promise<MessageRecord[]> {
    const { after, before, limit } = query;
    let rows: MessageRow[];
    if (after !== undefined && before !== undefined)
      rows = this.#q.between.all(room.id, after, before, limit);
    else if (after !== undefined) rows = this.#q.after.all(room.id, after, limit);
    else if (before !== undefined) rows = this.#q.before.all(room.id, before, limit);
    else rows = this.#q.latest.all(room.id, limit);
    return rows.map((r) => toMessage(room.name, r));
  }

  #messageAt(room: RoomRef, seq: number, ifVersion: number | undefined): MessageRow {
    const row = this.#q.getMessage.get(room.id, seq);
    if (!row) throw new PorthouseError('message_not_found');
    if (ifVersion !== undefined && row.version !== ifVersion) throw new PorthouseError('precondition_failed');
    return row;
  }

  editMessage(room: RoomRef, seq: number, text: string, ifVersion?: number): Promise<MessageRecord> {
    return this.#writes.run(() => {
      if (this.#messageAt(room, seq, ifVersion).deleted) throw new PorthouseError('message_deleted');
      const row = this.#q.editMessage.get(text, Date.now(), room.id, seq)!;
      this.#q.bumpMessages.run(room.id);
      this.#cache.dropRoom(room.name);
      return toMessage(room.name, row);
    });
  }

  deleteMessage(room: RoomRef, seq: number, ifVersion?: number): Promise<MessageRecord> {
    return this.#writes.run(() => {
      const current = this.#messageAt(room, seq, ifVersion);
      if (current.deleted) return toMessage(room.name, current);
      const row = this.#q.tombstone.get(room.id, seq)!;
      this.#q.bumpMessages.run(room.id);
      this.#cache.dropRoom(room.name);
      return toMessage(room.name, row);
    });
  }

  pruneIdempotencyKeys(olderThanMs: number): Promise<number> {
    return this.#writes.run(() => this.#q.pruneKeys.run(olderThanMs).changes);
  }
}

function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SQLITE_MIGRATIONS.length) {
    throw new Error(
      `the database is at schema version ${current}, newer than this porthouse (${SQLITE_MIGRATIONS.length}); upgrade porthouse`,
    );
  }
  for (let v = current; v < SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
