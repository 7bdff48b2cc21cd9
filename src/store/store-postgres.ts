// The PostgreSQL Store, for several nodes sharing one record. Reads go straight to the pool;
// writes go through AsyncGroupCommit (one transaction and one WAL flush per batch), and the
// appends of a batch share two statements (postgres-appends.ts). A room's seqs come from its
// last_seq, moved in the same transaction as the insert: the row lock orders concurrent writers
// on every node, and a rolled-back write gives its seqs back, so seqs have no gaps. Nothing is cached: another node may change anything at any time.
import { preciseNow } from '../core/journey.js';
import pg from 'pg';
import { PorthouseError } from '../core/errors.js';
import type { Member, MessageRecord, Role, RoomRecord, UserRecord } from '../core/types.js';
import { type AsyncBatchStats, AsyncGroupCommit, type Run } from './async-group-commit.js';
import { appendRun } from './postgres-appends.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import {
  type MemberRow,
  type MessageRow,
  type RoomRow,
  type UserRow,
  iso,
  toMember,
  toMessage,
  toRoom,
  toUser,
} from './rows.js';
import { ReadCoalescer } from './read-coalescer.js';
import type { HistoryQuery, NewMessage, RoomFields, RoomRef, Store } from './store.js';

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  readonly url: string;
  readonly maxBatch: number;
  /** Connections in this node's pool. */
  readonly poolSize: number;
  /** A schema to keep the tables in (created if missing); default: the connection's search_path. */
  readonly schema?: string;
  /**
   * Longest wait (ms) for a connection, new or from the busy pool, before the request fails as
   * `unavailable` instead of hanging. Default 5000.
   */
  readonly connectTimeout?: number;
  readonly onBatch?: (stats: AsyncBatchStats) => void;
}

const INT8 = 20;
// BIGINT comes back as a string by default; every BIGINT here (ids, seqs, epoch ms) fits a double.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
};

/**
 * The database cannot be reached (refused, reset, shut down, the connection broke, or every
 * pooled connection stayed busy past `connectTimeout`): a client sees `unavailable` (503, retry
 * later), not an internal error. SQLSTATE classes 08 (connection exception) and 57P (operator
 * intervention: shutdown, terminated).
 */
function rethrow(err: unknown): never {
  if (err instanceof PorthouseError) throw err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (
    code.startsWith('08') ||
    code.startsWith('57P') ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(code) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  )
    throw new PorthouseError('unavailable', 'The database is unreachable; try again shortly.');
  throw err;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string } | null)?.code === '23505';
const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
/** Advisory lock key for migrations: any fixed number, the same on every node. */
const MIGRATION_LOCK = 7_070_201;

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #writes: AsyncGroupCommit;
  readonly #shared = new ReadCoalescer();

  private constructor(pool: pg.Pool, options: PostgresStoreOptions) {
    this.#pool = pool;
    this.#writes = new AsyncGroupCommit(
      async () => {
        const client = await pool.connect();
        return {
          query: (sql, params) => client.query(sql, params as unknown[]),
          release: (err) => client.release(err),
        };
      },
      { maxBatch: options.maxBatch, ...(options.onBatch ? { onBatch: options.onBatch } : {}) },
    );
  }

  /** Connects, creates the schema if asked, runs pending migrations, and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      // A database that does not answer, or a pool that stays busy, fails the request (503)
      // instead of hanging it.
      connectionTimeoutMillis: options.connectTimeout ?? 5000,
      types,
      ...(options.schema ? { options: `-c search_path=${quoteIdent(options.schema)}` } : {}),
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      try {
        await migrate(client, options.schema);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool, options);
  }

  #read<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return this.#pool.query<R>(sql, params).then((r) => r.rows, rethrow);
  }

  #write<T>(op: (run: Run) => Promise<T>): Promise<T> {
    return this.#writes.run(op).catch(rethrow);
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1').catch(rethrow);
  }

  /** A PostgreSQL commit is durable when it returns (synchronous_commit on). */
  untilDurable(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    await this.#writes.close();
    await this.#pool.end();
  }

  settingOrInit(key: string, init: () => string): Promise<string> {
    return this.#write(async (run) => {
      // ON CONFLICT: another node may be initializing the same setting right now.
      await run('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
        key,
        init(),
      ]);
      return (await run('SELECT value FROM settings WHERE key = $1', [key])).rows[0]!['value'] as string;
    });
  }

  createUser(user: { name: string; passwordHash: string | null; admin: boolean }): Promise<UserRecord> {
    return this.#write(async (run) => {
      const now = Date.now();
      try {
        await run('INSERT INTO users (name, password_hash, admin, created_at) VALUES ($1, $2, $3, $4)', [
          user.name,
          user.passwordHash,
          user.admin,
          now,
        ]);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PorthouseError('user_exists');
        throw err;
      }
      // After the insert, which waits for a deletion of the same name in flight: this statement
      // then sees its reservation.
      if ((await run('SELECT 1 FROM deleted_users WHERE name = $1', [user.name])).rowCount)
        throw new PorthouseError(
          'user_exists',
          'This name belonged to a deleted user and is not given out again.',
        );
      return { name: user.name, admin: user.admin, createdAt: iso(now), passwordHash: user.passwordHash };
    });
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const [row] = await this.#read<UserRow>('SELECT * FROM users WHERE name = $1', [name]);
    return row && toUser(row);
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    await this.#write(async (run) => {
      const r = await run('UPDATE users SET admin = $1 WHERE name = $2', [admin, name]);
      if (r.rowCount === 0) throw new PorthouseError('user_not_found');
    });
  }

  /** The user exists, and stays until this transaction ends (a deletion waits for it). */
  async #userHere(run: Run, name: string): Promise<void> {
    const r = await run('SELECT 1 FROM users WHERE name = $1 FOR SHARE', [name]);
    if (r.rowCount === 0) throw new PorthouseError('user_not_found');
  }

  deleteUser(name: string): Promise<{ rooms: string[] }> {
    return this.#write(async (run) => {
      // Lock the user row first, so two deletions of one user do not interleave.
      const found = await run('SELECT name FROM users WHERE name = $1 FOR UPDATE', [name]);
      if (found.rowCount === 0) throw new PorthouseError('user_not_found');
      const owned = (await run('SELECT name FROM rooms WHERE owner = $1 ORDER BY name', [name])).rows as {
        name: string;
      }[];
      if (owned.length > 0)
        throw new PorthouseError(
          'user_owns_rooms',
          `Delete these rooms first: ${owned.map((r) => r.name).join(', ')}.`,
        );
      const rooms = (
        await run(
          'DELETE FROM members m USING rooms r WHERE r.id = m.room_id AND m."user" = $1 RETURNING r.id, r.name',
          [name],
        )
      ).rows as { id: number; name: string }[];
      if (rooms.length > 0)
        await run('UPDATE rooms SET members_version = members_version + 1 WHERE id = ANY($1)', [
          rooms.map((r) => r.id),
        ]);
      await run('DELETE FROM users WHERE name = $1', [name]);
      await run('INSERT INTO deleted_users (name, deleted_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        name,
        Date.now(),
      ]);
      return { rooms: rooms.map((r) => r.name).sort() };
    });
  }

  createRoom(room: RoomFields & { name: string; owner: string }, usersHere = false): Promise<RoomRecord> {
    return this.#write(async (run) => {
      if (usersHere) await this.#userHere(run, room.owner);
      const now = Date.now();
      let row: RoomRow;
      try {
        row = (
          await run(
            `INSERT INTO rooms (name, title, topic, private, owner, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *`,
            [room.name, room.title, room.topic, room.private, room.owner, now],
          )
        ).rows[0] as RoomRow;
      } catch (err) {
        if (isUniqueViolation(err)) throw new PorthouseError('room_exists');
        throw err;
      }
      await run(`INSERT INTO members (room_id, "user", role, joined_at) VALUES ($1, $2, 'owner', $3)`, [
        row.id,
        room.owner,
        now,
      ]);
      return toRoom(row);
    });
  }

  async getRoom(name: string): Promise<RoomRecord | undefined> {
    // Every request into a room reads it first: concurrent ones share reads (see ReadCoalescer).
    const [row] = await this.#shared.run(`room:${name}`, () =>
      this.#read<RoomRow>('SELECT * FROM rooms WHERE name = $1', [name]),
    );
    return row && toRoom(row);
  }

  async listRooms(user: string, all: boolean): Promise<RoomRecord[]> {
    const rows = await this.#read<RoomRow & { my_role: string | null }>(
      `SELECT r.*, m.role AS my_role FROM rooms r LEFT JOIN members m ON m.room_id = r.id AND m."user" = $1
       ${all ? '' : 'WHERE NOT r.private OR m."user" IS NOT NULL'} ORDER BY r.name COLLATE "C"`,
      [user],
    );
    return rows.map((row) => {
      const room = toRoom(row);
      if (row.my_role !== null) room.role = row.my_role as Role;
      return room;
    });
  }

  async #roomAt(run: Run, room: RoomRef, ifVersion: number | undefined): Promise<RoomRow> {
    // FOR UPDATE: the version checked is the version changed, whatever other nodes do meanwhile.
    const row = (await run('SELECT * FROM rooms WHERE id = $1 FOR UPDATE', [room.id])).rows[0] as
      | RoomRow
      | undefined;
    if (!row) throw new PorthouseError('room_not_found');
    if (ifVersion !== undefined && row.version !== ifVersion) throw new PorthouseError('precondition_failed');
    return row;
  }

  updateRoom(room: RoomRef, fields: RoomFields, ifVersion?: number): Promise<RoomRecord> {
    return this.#write(async (run) => {
      await this.#roomAt(run, room, ifVersion);
      const r = await run(
        // updated_at only moves forward (see the SQLite store).
        `UPDATE rooms SET title = $1, topic = $2, private = $3, updated_at = GREATEST($4, updated_at + 1),
         version = version + 1 WHERE id = $5 RETURNING *`,
        [fields.title, fields.topic, fields.private, Date.now(), room.id],
      );
      return toRoom(r.rows[0] as RoomRow);
    });
  }

  async deleteRoom(room: RoomRef, ifVersion?: number): Promise<void> {
    await this.#write(async (run) => {
      await this.#roomAt(run, room, ifVersion);
      // No foreign key cascades to these (migration 3); the room's lock keeps appends out meanwhile.
      await run('DELETE FROM messages WHERE room_id = $1', [room.id]);
      await run('DELETE FROM idempotency_keys WHERE room_id = $1', [room.id]);
      await run('DELETE FROM rooms WHERE id = $1', [room.id]);
    });
  }

  async getRole(room: RoomRef, user: string): Promise<Role | undefined> {
    const [row] = await this.#shared.run(`role:${room.id}:${user}`, () =>
      this.#read<{ role: Role }>('SELECT role FROM members WHERE room_id = $1 AND "user" = $2', [
        room.id,
        user,
      ]),
    );
    return row?.role;
  }

  async getMember(room: RoomRef, user: string): Promise<Member | undefined> {
    const [row] = await this.#read<MemberRow>('SELECT * FROM members WHERE room_id = $1 AND "user" = $2', [
      room.id,
      user,
    ]);
    return row && toMember(room.name, row);
  }

  async listMembers(room: RoomRef): Promise<Member[]> {
    const rows = await this.#read<MemberRow>(
      'SELECT * FROM members WHERE room_id = $1 ORDER BY joined_at, "user" COLLATE "C"',
      [room.id],
    );
    return rows.map((r) => toMember(room.name, r));
  }

  addMember(
    room: RoomRef,
    user: string,
    role: Role,
    usersHere = false,
  ): Promise<{ member: Member; created: boolean }> {
    return this.#write(async (run) => {
      await this.#roomAt(run, room, undefined);
      if (usersHere) await this.#userHere(run, user);
      const inserted = await run(
        `INSERT INTO members (room_id, "user", role, joined_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (room_id, "user") DO NOTHING`,
        [room.id, user, role, Date.now()],
      );
      const created = (inserted.rowCount ?? 0) > 0;
      if (created)
        await run('UPDATE rooms SET members_version = members_version + 1 WHERE id = $1', [room.id]);
      const row = (await run('SELECT * FROM members WHERE room_id = $1 AND "user" = $2', [room.id, user]))
        .rows[0] as MemberRow;
      return { member: toMember(room.name, row), created };
    });
  }

  removeMember(room: RoomRef, user: string): Promise<boolean> {
    return this.#write(async (run) => {
      const r = await run('DELETE FROM members WHERE room_id = $1 AND "user" = $2', [room.id, user]);
      const removed = (r.rowCount ?? 0) > 0;
      if (removed)
        await run('UPDATE rooms SET members_version = members_version + 1 WHERE id = $1', [room.id]);
      return removed;
    });
  }

  appendMessage(room: RoomRef, message: NewMessage): Promise<{ message: MessageRecord; created: boolean }> {
    // Appends queued together share their statements (postgres-appends.ts).
    const appended = this.#writes.runBatched(appendRun, { room, message }).catch(rethrow);
    const timing = message.timing;
    if (!timing) return appended;
    // PostgreSQL commits durably (synchronous_commit): the commit's answer is both times.
    return appended.then((result) => {
      timing.committedAt = timing.durableAt = preciseNow();
      return result;
    });
  }

  async getMessage(room: RoomRef, seq: number): Promise<MessageRecord | undefined> {
    const [row] = await this.#read<MessageRow>('SELECT * FROM messages WHERE room_id = $1 AND seq = $2', [
      room.id,
      seq,
    ]);
    return row && toMessage(room.name, row);
  }

  async listMessages(room: RoomRef, query: HistoryQuery): Promise<MessageRecord[]> {
    const { after, before, limit } = query;
    let rows: MessageRow[];
    if (after !== undefined && before !== undefined)
      rows = await this.#read(
        'SELECT * FROM messages WHERE room_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq LIMIT $4',
        [room.id, after, before, limit],
      );
    else if (after !== undefined)
      rows = await this.#read(
        'SELECT * FROM messages WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [room.id, after, limit],
      );
    else if (before !== undefined)
      rows = await this.#read(
        `SELECT * FROM (SELECT * FROM messages WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3) m
         ORDER BY seq`,
        [room.id, before, limit],
      );
    else
      rows = await this.#read(
        'SELECT * FROM (SELECT * FROM messages WHERE room_id = $1 ORDER BY seq DESC LIMIT $2) m ORDER BY seq',
        [room.id, limit],
      );
    return rows.map((r) => toMessage(room.name, r));
  }

  async #messageAt(run: Run, room: RoomRef, seq: number, ifVersion: number | undefined): Promise<MessageRow> {
    const row = (
      await run('SELECT * FROM messages WHERE room_id = $1 AND seq = $2 FOR UPDATE', [room.id, seq])
    ).rows[0] as MessageRow | undefined;
    if (!row) throw new PorthouseError('message_not_found');
    if (ifVersion !== undefined && row.version !== ifVersion) throw new PorthouseError('precondition_failed');
    return row;
  }

  editMessage(room: RoomRef, seq: number, text: string, ifVersion?: number): Promise<MessageRecord> {
    return this.#write(async (run) => {
      if ((await this.#messageAt(run, room, seq, ifVersion)).deleted)
        throw new PorthouseError('message_deleted');
      const row = (
        await run(
          `UPDATE messages SET text = $1, edited_at = GREATEST($2, COALESCE(edited_at, created_at) + 1),
           version = version + 1 WHERE room_id = $3 AND seq = $4 RETURNING *`,
          [text, Date.now(), room.id, seq],
        )
      ).rows[0] as MessageRow;
      await run('UPDATE rooms SET messages_version = messages_version + 1 WHERE id = $1', [room.id]);
      return toMessage(room.name, row);
    });
  }

  deleteMessage(room: RoomRef, seq: number, ifVersion?: number): Promise<MessageRecord> {
    return this.#write(async (run) => {
      const current = await this.#messageAt(run, room, seq, ifVersion);
      if (current.deleted) return toMessage(room.name, current);
      const row = (
        await run(
          `UPDATE messages SET text = NULL, deleted = true, version = version + 1
           WHERE room_id = $1 AND seq = $2 RETURNING *`,
          [room.id, seq],
        )
      ).rows[0] as MessageRow;
      await run('UPDATE rooms SET messages_version = messages_version + 1 WHERE id = $1', [room.id]);
      return toMessage(room.name, row);
    });
  }

  pruneIdempotencyKeys(olderThanMs: number): Promise<number> {
    return this.#write(
      async (run) =>
        (await run('DELETE FROM idempotency_keys WHERE created_at < $1', [olderThanMs])).rowCount ?? 0,
    );
  }
}

async function migrate(client: pg.PoolClient, schema: string | undefined): Promise<void> {
  await client.query('BEGIN');
  try {
    // One node migrates; the others wait here, then find nothing left to do.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query('CREATE TABLE IF NOT EXISTS porthouse_schema (version INTEGER NOT NULL)');
    const current = (await client.query<{ version: number }>('SELECT version FROM porthouse_schema')).rows[0]
      ?.version;
    if (current === undefined) await client.query('INSERT INTO porthouse_schema (version) VALUES (0)');
    const from = current ?? 0;
    if (from > POSTGRES_MIGRATIONS.length)
      throw new Error(
        `the database is at schema version ${from}, newer than this porthouse (${POSTGRES_MIGRATIONS.length}); upgrade porthouse`,
      );
    for (let v = from; v < POSTGRES_MIGRATIONS.length; v++) {
      await client.query(POSTGRES_MIGRATIONS[v]!);
      await client.query('UPDATE porthouse_schema SET version = $1', [v + 1]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
