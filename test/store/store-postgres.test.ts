// The PostgreSQL adapter: the shared contract (each case in a schema of its own, dropped after),
// plus what only several connections can show: seqs without gaps when many "nodes" append to
// one room at once, and migrations that several nodes may start together.
import assert from 'node:assert/strict';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { PorthouseError } from '../../src/core/errors.js';
import type { AsyncBatchStats } from '../../src/store/async-group-commit.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-migrations.js';
import { PostgresStore } from '../../src/store/store-postgres.js';
import { POSTGRES_URL, postgresMissing } from '../support/services.js';
import { runStoreContract } from './contract.js';

const skip = await postgresMissing();
const run = `t${process.pid}_${Date.now().toString(36)}`;
let n = 0;
const schemas: string[] = [];
const freshSchema = () => {
  const name = `porthouse_${run}_${++n}`;
  schemas.push(name);
  return name;
};
const open = (schema: string, maxBatch = 256, onBatch?: (stats: AsyncBatchStats) => void) =>
  PostgresStore.open({ url: POSTGRES_URL, schema, maxBatch, poolSize: 4, ...(onBatch ? { onBatch } : {}) });
const roomFields = { title: 't', topic: '', private: false, owner: 'o' };

after(async () => {
  if (skip) return;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await client.end();
});

describe('PostgreSQL store', { skip }, () => {
  runStoreContract('PostgreSQL', { open: () => open(freshSchema()) });

  test('four nodes appending to one room at once: seqs 1..N, no gap, no duplicate, every ack matches the row', async () => {
    const schema = freshSchema();
    const nodes = await Promise.all([1, 2, 3, 4].map(() => open(schema, 64)));
    try {
      const room = await nodes[0]!.createRoom({
        name: 'busy',
        title: 'b',
        topic: '',
        private: false,
        owner: 'o',
      });
      const per = 150;
      const acks = await Promise.all(
        nodes.flatMap((node, i) =>
          Array.from({ length: per }, (_, j) =>
            node.appendMessage(room, { author: 'o', text: `n${i}-${j}`, via: 'http' }).then((r) => r.message),
          ),
        ),
      );
      const seqs = acks.map((m) => m.seq).sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: 4 * per }, (_, i) => i + 1),
      );
      const history = await nodes[3]!.listMessages(room, { after: 0, limit: 1000 });
      assert.deepEqual(
        history.map((m) => [m.seq, m.text]),
        acks.sort((a, b) => a.seq - b.seq).map((m) => [m.seq, m.text]),
      );
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
    }
  });

  test('a batch of appends alone is one statement whatever its size, and moves each room row once', async () => {
    const batches: AsyncBatchStats[] = [];
    const schema = freshSchema();
    const store = await open(schema, 512, (stats) => batches.push(stats));
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const rooms = await Promise.all(
        ['one', 'two'].map((name) => store.createRoom({ name, ...roomFields })),
      );
      // Every UPDATE writes a new row version at the page's next free slot (the rows share page
      // 0): the highest slot in use counts the updates of both rooms together.
      const updates = async () =>
        Number(
          (
            await client.query<{ slot: string }>(
              `SELECT max((ctid::text::point)[1]) AS slot FROM "${schema}".rooms`,
            )
          ).rows[0]!.slot,
        );
      const before = await updates();
      const statementsFor = async (n: number, keyed: boolean) => {
        batches.length = 0;
        const acks = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            store.appendMessage(rooms[i % 2]!, {
              author: 'o',
              text: `m${i}`,
              via: 'ws',
              ...(keyed ? { idempotencyKey: `k${n}-${i}` } : {}),
            }),
          ),
        );
        assert.ok(acks.every((a) => a.created));
        assert.equal(batches.length, 1, 'queued in one turn, committed as one batch');
        assert.equal(batches[0]!.size, n);
        return batches[0]!.statements;
      };
      const small = await statementsFor(2, true);
      const large = await statementsFor(400, true);
      const unkeyed = await statementsFor(400, false);
      assert.equal(small, 1, 'one statement: it locks the rooms, appends, and is its own transaction');
      assert.equal(large, small);
      assert.equal(unkeyed, small);
      const after = await updates();
      // Three batches, two rooms in each: six updates, not one per message (802).
      assert.equal(after - before, 6);
      const history = await store.listMessages(rooms[0]!, { after: 0, limit: 1000 });
      assert.deepEqual(
        history.map((m) => m.seq),
        Array.from({ length: 401 }, (_, i) => i + 1),
      );
      assert.equal((await store.getRoom('one'))!.lastSeq, 401);
    } finally {
      await client.end();
      await store.close();
    }
  });

  test('one batch mixing keys seen before, twins, a reused key, a missing room and other writes answers each on its own', async () => {
    const schema = freshSchema();
    const store = await open(schema);
    try {
      const room = await store.createRoom({ name: 'mixed', ...roomFields });
      const earlier = await store.appendMessage(room, {
        author: 'ada',
        text: 'hi',
        via: 'http',
        idempotencyKey: 'a',
      });
      const gone = { id: 987_654, name: 'gone' };
      const results = await Promise.allSettled([
        store.appendMessage(room, { author: 'ada', text: 'hi', via: 'ws', idempotencyKey: 'a' }),
        store.appendMessage(room, { author: 'ada', text: 'changed', via: 'ws', idempotencyKey: 'a' }),
        store.appendMessage(room, { author: 'ada', text: 'new', via: 'ws', idempotencyKey: 'b' }),
        store.appendMessage(room, { author: 'ada', text: 'new', via: 'tcp', idempotencyKey: 'b' }),
        store.appendMessage(room, { author: 'ada', text: 'other', via: 'tcp', idempotencyKey: 'b' }),
        store.appendMessage(room, { author: 'bob', text: 'new', via: 'ws', idempotencyKey: 'b' }),
        store.appendMessage(gone, { author: 'ada', text: 'x', via: 'ws' }),
        store.createRoom({ name: 'mixed', ...roomFields }),
        store.appendMessage(room, { author: 'ada', text: 'plain', via: 'udp' }),
      ]);
      const value = (i: number) => {
        const r = results[i]!;
        assert.equal(r.status, 'fulfilled', `result ${i}: ${r.status === 'rejected' ? r.reason : ''}`);
        return (
          r as PromiseFulfilledResult<{
            message: { seq: number; text?: string; via: string };
            created: boolean;
          }>
        ).value;
      };
      const code = (i: number) => {
        const r = results[i]!;
        assert.equal(r.status, 'rejected', `result ${i}`);
        return ((r as PromiseRejectedResult).reason as PorthouseError).code;
      };
      assert.deepEqual(value(0), { ...earlier, created: false }, 'a key seen before returns its message');
      assert.equal(code(1), 'idempotency_key_reused');
      assert.equal(value(2).created, true);
      assert.equal(value(2).message.seq, 2);
      assert.deepEqual(
        value(3),
        { ...value(2), created: false },
        'a twin in the same batch returns the first',
      );
      assert.equal(code(4), 'idempotency_key_reused');
      assert.equal(value(5).created, true, 'keys are per author');
      assert.equal(value(5).message.seq, 3);
      assert.equal(code(6), 'room_not_found');
      assert.equal(code(7), 'room_exists');
      assert.equal(value(8).message.seq, 4);
      assert.deepEqual(
        (await store.listMessages(room, { after: 0, limit: 10 })).map((m) => [m.seq, m.text, m.via]),
        [
          [1, 'hi', 'http'],
          [2, 'new', 'ws'],
          [3, 'new', 'ws'],
          [4, 'plain', 'udp'],
        ],
      );
      assert.equal((await store.getRoom('mixed'))!.lastSeq, 4);
    } finally {
      await store.close();
    }
  });

  test('an append the database refuses fails alone; the rest of its run is stored, in order', async () => {
    const store = await open(freshSchema());
    try {
      const room = await store.createRoom({ name: 'nul', ...roomFields });
      // PostgreSQL text cannot hold U+0000: the run's statement fails and is retried item by item.
      const results = await Promise.allSettled(
        ['a', 'b\u0000', 'c', 'd'].map((text, i) =>
          store.appendMessage(room, { author: 'o', text, via: 'ws', idempotencyKey: `n${i}` }),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      assert.deepEqual(
        (await store.listMessages(room, { after: 0, limit: 10 })).map((m) => [m.seq, m.text]),
        [
          [1, 'a'],
          [2, 'c'],
          [3, 'd'],
        ],
      );
      const retry = await store.appendMessage(room, {
        author: 'o',
        text: 'c',
        via: 'ws',
        idempotencyKey: 'n2',
      });
      assert.deepEqual([retry.created, retry.message.seq], [false, 2], 'the keys of the run were stored');
    } finally {
      await store.close();
    }
  });

  test('the same idempotency key from two nodes at once stores one message', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    try {
      const room = await a!.createRoom({ name: 'k', title: 'k', topic: '', private: false, owner: 'o' });
      // Rounds of keyed appends racing from both nodes, alone in their batch (odd rounds) or with
      // unkeyed neighbours (even): one node's batch often waits for the other's lock and must
      // then find the key the other committed.
      let stored = 0;
      for (let round = 1; round <= 20; round++) {
        const key = `ref-${round}`;
        const keyed = (s: PostgresStore) =>
          s.appendMessage(room, { author: 'o', text: 'once', via: 'ws', idempotencyKey: key });
        const results = await Promise.all(
          round % 2 === 1
            ? [a, b].map((s) => keyed(s!))
            : [a, b, a, b].map((s, i) =>
                Promise.all([
                  s!.appendMessage(room, { author: 'o', text: `n${round}.${i}`, via: 'ws' }),
                  keyed(s!),
                ]).then(([, k]) => k),
              ),
        );
        stored += round % 2 === 1 ? 1 : 5;
        assert.equal(new Set(results.map((r) => r.message.seq)).size, 1, `round ${round}: one seq`);
        assert.equal(results.filter((r) => r.created).length, 1, `round ${round}: stored once`);
      }
      const history = await b!.listMessages(room, { after: 0, limit: 1000 });
      assert.deepEqual(
        history.map((m) => m.seq),
        Array.from({ length: stored }, (_, i) => i + 1),
        'no gap, no duplicate',
      );
      assert.equal(history.filter((m) => m.text === 'once').length, 20);
      assert.equal((await b!.getRoom('k'))!.lastSeq, stored);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test('nodes starting together migrate once, and a database newer than the code is refused', async () => {
    const schema = freshSchema();
    const stores = await Promise.all([1, 2, 3].map(() => open(schema)));
    await Promise.all(stores.map((s) => s.close()));
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version FROM "${schema}".porthouse_schema`);
      assert.deepEqual(rows, [{ version: POSTGRES_MIGRATIONS.length }]);
      await client.query(`UPDATE "${schema}".porthouse_schema SET version = 99`);
    } finally {
      await client.end();
    }
    await assert.rejects(open(schema), /schema version 99, newer than this porthouse/);
  });
  test('a pool that stays busy past connectTimeout fails the waiting request as unavailable, not internal', async () => {
    const schema = freshSchema();
    const store = await PostgresStore.open({
      url: POSTGRES_URL,
      schema,
      maxBatch: 8,
      poolSize: 1,
      connectTimeout: 300,
    });
    const locker = new pg.Client({ connectionString: POSTGRES_URL });
    await locker.connect();
    try {
      const room = await store.createRoom({ name: 'r', title: 'r', topic: '', private: false, owner: 'o' });
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".rooms IN ACCESS EXCLUSIVE MODE`);
      // The only pooled connection waits on the lock; the next request waits for the pool.
      const blocked = store.appendMessage(room, { author: 'o', text: 'waits for the lock', via: 'http' });
      const waiting = async () =>
        (
          await locker.query(
            `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT l.granted AND c.relname = 'rooms' AND n.nspname = $1`,
            [schema],
          )
        ).rowCount;
      for (let i = 0; i < 250 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(await waiting(), 'the write waits on the lock, holding the only connection');
      await assert.rejects(store.getMessage(room, 1), (err: unknown) => {
        assert.ok(err instanceof PorthouseError, String(err));
        assert.equal(err.code, 'unavailable');
        return true;
      });
      await locker.query('ROLLBACK');
      assert.equal((await blocked).message.seq, 1, 'the write that held the connection went through');
    } finally {
      await locker.end();
      await store.close();
    }
  });

  test('the database going away: writes and reads fail as unavailable, nothing half-done; back, the seq goes on with no gap', async () => {
    const target = new URL(POSTGRES_URL);
    const sockets = new Set<Socket>();
    const proxy = (port = 0) =>
      new Promise<Server>((resolve) => {
        const server = createServer((client) => {
          const upstream = connect(Number(target.port || 5432), target.hostname);
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.on('close', () => sockets.delete(s));
            s.on('error', () => {});
          }
          client.pipe(upstream).pipe(client);
        });
        server.listen(port, '127.0.0.1', () => resolve(server));
      });
    let server = await proxy();
    const port = (server.address() as { port: number }).port;
    const viaProxy = new URL(POSTGRES_URL);
    viaProxy.host = `127.0.0.1:${port}`;
    const store = await PostgresStore.open({
      url: viaProxy.toString(),
      schema: freshSchema(),
      maxBatch: 64,
      poolSize: 2,
    });
    try {
      const room = await store.createRoom({ name: 'r', title: 'r', topic: '', private: false, owner: 'o' });
      await store.appendMessage(room, { author: 'o', text: 'before', via: 'http' });
      await new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      const unavailable = (err: unknown) => err instanceof PorthouseError && err.code === 'unavailable';
      await assert.rejects(
        store.appendMessage(room, { author: 'o', text: 'lost', via: 'http' }),
        unavailable,
      );
      await assert.rejects(store.getRoom('r'), unavailable);
      await assert.rejects(store.ping(), unavailable);
      server = await proxy(port);
      let seq = 0;
      for (let i = 0; i < 50 && seq === 0; i++) {
        try {
          seq = (await store.appendMessage(room, { author: 'o', text: 'after', via: 'http' })).message.seq;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(seq, 2, 'the failed write took no seq');
      assert.deepEqual(
        (await store.listMessages(room, { after: 0, limit: 10 })).map((m) => m.text),
        ['before', 'after'],
      );
    } finally {
      await store.close();
      server.close();
      for (const s of sockets) s.destroy();
    }
  });
});
