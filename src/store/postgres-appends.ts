// Message appends on PostgreSQL, a run of them at a time: every append queued next to another in
// a group commit is stored by the same statements, whatever their number. Each room written is
// locked once, in id order, so nodes writing the same rooms cannot deadlock; then the new
// messages are numbered from each room's last_seq and inserted with their keys at once. A batch
// of appends alone is one statement, its own transaction. Inside a larger transaction the lock is
// a statement of its own, so the append that follows sees every idempotency key committed before
// the lock was granted.
import { randomUUID } from 'node:crypto';
import { PorthouseError } from '../core/errors.js';
import type { MessageRecord } from '../core/types.js';
import type { Batched, Outcome, Run } from './async-group-commit.js';
import { type MessageRow, newMessageRecord, textHash, toMessage } from './rows.js';
import type { NewMessage, RoomRef } from './store.js';

export interface Append {
  readonly room: RoomRef;
  readonly message: NewMessage;
}

export type Appended = { message: MessageRecord; created: boolean };

const LOCK_ROOMS = 'SELECT id FROM rooms WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE';

// $1..$7 one array per column (the i-th entry of each is append i), $8 the time of the batch. The
// result has a row per append: its seq and, where its key was used before, the stored message
// and its key's text hash as one JSON value (null for a new message). Three columns, so a batch's
// result costs the client little to read.
const appendSql = (lockFirst: boolean) => `
WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    WITH ORDINALITY AS i(room_id, id, author, text, via, key, hash, ord)
),
seen AS (
  SELECT i.ord, k.*
  FROM input i
  -- Index lookups per keyed append (LIMIT keeps the planner from hashing whole tables).
  CROSS JOIN LATERAL (
    SELECT k.text_hash, m.* FROM idempotency_keys k
    JOIN messages m ON m.room_id = k.room_id AND m.seq = k.seq
    WHERE k.room_id = i.room_id AND k."user" = i.author AND k.key = i.key LIMIT 1
  ) k
  WHERE i.key IS NOT NULL
),
fresh AS (SELECT * FROM input i WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.ord = i.ord)),${
  lockFirst
    ? `
-- Sorted, then locked row by row: every room of the batch is locked, in id order, before the
-- aggregate below hands the UPDATE its first row.
locked AS MATERIALIZED (
  SELECT id FROM rooms WHERE id IN (SELECT room_id FROM input) ORDER BY id FOR UPDATE OF rooms
),
counts AS (SELECT room_id, count(*) AS n FROM fresh WHERE room_id IN (SELECT id FROM locked) GROUP BY room_id),`
    : `
counts AS (SELECT room_id, count(*) AS n FROM fresh GROUP BY room_id),`
}
bumped AS (
  UPDATE rooms r SET last_seq = r.last_seq + c.n, messages_version = r.messages_version + c.n
  FROM counts c WHERE r.id = c.room_id
  RETURNING r.id, r.last_seq - c.n AS base
),
numbered AS (
  SELECT f.*, b.base + row_number() OVER (PARTITION BY f.room_id ORDER BY f.ord) AS seq
  FROM fresh f JOIN bumped b ON b.id = f.room_id
),
stored AS (
  INSERT INTO messages (room_id, seq, id, author, text, via, created_at)
  SELECT room_id, seq, id, author, text, via, $8 FROM numbered
),
keys AS (
  INSERT INTO idempotency_keys (room_id, "user", key, seq, text_hash, created_at)
  SELECT room_id, author, key, seq, hash, $8 FROM numbered WHERE key IS NOT NULL
)
SELECT ord, seq, NULL::json AS seen FROM numbered
UNION ALL
SELECT ord, seq, json_build_object(
  'text_hash', text_hash, 'seq', seq, 'id', id, 'author', author, 'text', text, 'via', via,
  'created_at', created_at, 'edited_at', edited_at, 'deleted', deleted, 'version', version
) FROM seen`;
// Alone, one statement has one snapshot, taken before its locks are granted: a key committed by
// the transaction it waited for is not seen, and inserting it again fails on the key's unique
// index. The batch then takes the careful path, whose two-statement appends see that key. Neither
// is a named prepared statement: a generic plan cached while the tables were small keeps its
// sequential scans as they grow (seen: 9 ms, then 30 ms, per batch of replayed keys).
const APPEND = appendSql(false);
const APPEND_ALONE = appendSql(true);

type ResultRow = { ord: number; seq: number; seen: (MessageRow & { text_hash: string }) | null };

/** Appends of one run, each keyed (room, author, key) where it has a key: later twins reuse the first. */
const keyOf = (a: Append) =>
  a.message.idempotencyKey === undefined
    ? undefined
    : `${a.room.id}\n${a.message.author}\n${a.message.idempotencyKey}`;

export const appendRun: Batched<Append, Appended> = {
  async exec(run: Run, items: readonly Append[]): Promise<Outcome<Appended>[]> {
    const rooms = [...new Set(items.map((a) => a.room.id))];
    const present = new Set(((await run(LOCK_ROOMS, [rooms])).rows as { id: number }[]).map((r) => r.id));
    return append(run, APPEND, items, present);
  },
  alone: (run, items) => append(run, APPEND_ALONE, items, undefined),
};

/** `present`: the rooms found by the lock, or undefined when the statement locks them itself. */
async function append(
  run: Run,
  sql: string,
  items: readonly Append[],
  present: ReadonlySet<number> | undefined,
): Promise<Outcome<Appended>[]> {
  const hashes = items.map((a) => (a.message.idempotencyKey === undefined ? null : textHash(a.message.text)));
  // The item each one stands with (the first of its key in this run, or itself; -1 when its
  // room is gone), and the items that go to the database: those that stand for themselves.
  const firstOfKey = new Map<string, number>();
  const first = items.map((a, i) => {
    if (present && !present.has(a.room.id)) return -1;
    const key = keyOf(a);
    if (key === undefined) return i;
    const seen = firstOfKey.get(key);
    if (seen !== undefined) return seen;
    firstOfKey.set(key, i);
    return i;
  });
  const sent = items.flatMap((_, i) => (first[i] === i ? [i] : []));
  const now = Date.now();
  const ids = items.map(() => randomUUID());
  const rows =
    sent.length === 0
      ? []
      : ((
          await run(sql, [
            sent.map((i) => items[i]!.room.id),
            sent.map((i) => ids[i]),
            sent.map((i) => items[i]!.message.author),
            sent.map((i) => items[i]!.message.text),
            sent.map((i) => items[i]!.message.via),
            sent.map((i) => items[i]!.message.idempotencyKey ?? null),
            sent.map((i) => hashes[i]),
            now,
          ])
        ).rows as ResultRow[]);
  // ord is 1-based over `sent`.
  const bySent = new Map<number, ResultRow>();
  for (const row of rows) bySent.set(sent[row.ord - 1]!, row);
  const outcomeOf = (i: number): Outcome<Appended> => {
    const a = items[i]!;
    const row = bySent.get(first[i]!);
    if (!row) return { error: new PorthouseError('room_not_found') };
    const seen = row.seen;
    if (seen === null) {
      const f = first[i]!;
      const record = newMessageRecord(a.room.name, row.seq, ids[f]!, items[f]!.message, now);
      if (f === i) return { value: { message: record, created: true } };
      if (hashes[i] !== hashes[f]) return { error: new PorthouseError('idempotency_key_reused') };
      return { value: { message: record, created: false } };
    }
    if (seen.text_hash !== hashes[i]) return { error: new PorthouseError('idempotency_key_reused') };
    return { value: { message: toMessage(a.room.name, seen), created: false } };
  };
  return items.map((_, i) => outcomeOf(i));
}
