// The SQLite adapter: the shared contract, plus what only a file on disk can show — migrations
// on open, WAL mode, durability settings and group commit.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { Database } from '../../src/store/sqlite-driver.js';
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/store-sqlite.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-migrations.js';
import { heldSyncStore } from '../support/held-sync.js';
import { tempDir } from '../support/server.js';
import { runStoreContract } from './contract.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const freshDir = () => {
  const d = tempDir('porthouse-store-');
  dirs.push(d);
  return d;
};

runStoreContract('SQLite', {
  open: async () => new SqliteStore({ dir: freshDir(), synchronous: 'full', maxBatch: 512 }),
});

// The default: the WAL made durable off the event loop. Same contract.
runStoreContract('SQLite with the WAL synced off the event loop', {
  open: async () => new SqliteStore({ dir: freshDir(), synchronous: 'fdatasync', maxBatch: 512 }),
});

// The room cache must be invisible: the same promises, kept with it on (and tiny, so entries are
// evicted and refilled during the cases).
runStoreContract('SQLite with a room cache', {
  open: async () =>
    new SqliteStore({
      dir: freshDir(),
      synchronous: 'full',
      maxBatch: 512,
      cache: { maxRooms: 2, maxRoles: 3 },
    }),
});

test('with the room cache on, an append advances the cached room instead of dropping it, and it reads as the database says', async () => {
  const dir = freshDir();
  const store = new SqliteStore({
    dir,
    synchronous: 'full',
    maxBatch: 64,
    cache: { maxRooms: 10, maxRoles: 10 },
  });
  const room = await store.createRoom({ name: 'hot', title: 'Hot', topic: '', private: false, owner: 'ada' });
  const cached = await store.getRoom('hot'); // now in the cache
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      store.appendMessage(room, { author: 'ada', text: `m${i}`, via: 'http' }),
    ),
  );
  const after = await store.getRoom('hot');
  assert.notEqual(after, cached, 'a new record, not the old one mutated');
  assert.ok(Object.isFrozen(after));
  const plain = new SqliteStore({ dir, synchronous: 'full', maxBatch: 1 });
  const truth = await plain.getRoom('hot');
  assert.deepEqual(
    [after?.lastSeq, after?.messagesVersion, after?.version, after?.title],
    [truth?.lastSeq, truth?.messagesVersion, truth?.version, truth?.title],
  );
  assert.equal(after?.lastSeq, 50);
  await plain.close();
  await store.close();
});

test('runs its migrations on open, once, and records the schema version', async () => {
  const dir = freshDir();
  const store = new SqliteStore({ dir, synchronous: 'full', maxBatch: 10 });
  await store.createUser({ name: 'ada', passwordHash: null, admin: false });
  await store.close();
  const reopened = new SqliteStore({ dir, synchronous: 'full', maxBatch: 10 });
  assert.equal(
    (await reopened.getUser('ada'))?.name,
    'ada',
    'reopening keeps the data and does not re-run migrations',
  );
  await reopened.close();
  const db = new Database(`${dir}/porthouse.db`, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
});

test('refuses a database from a newer porthouse instead of corrupting it', async () => {
  const dir = freshDir();
  await new SqliteStore({ dir, synchronous: 'full', maxBatch: 1 }).close();
  const db = new Database(`${dir}/porthouse.db`);
  db.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(
    () => new SqliteStore({ dir, synchronous: 'full', maxBatch: 1 }),
    /newer than this porthouse/,
  );
});

test('group commit: hundreds of concurrent appends share a handful of transactions', async () => {
  const batches: number[] = [];
  const store = new SqliteStore({
    dir: freshDir(),
    synchronous: 'full',
    maxBatch: 512,
    onBatch: ({ size }) => batches.push(size),
  });
  const room = await store.createRoom({ name: 'busy', title: 'b', topic: '', private: false, owner: 'o' });
  batches.length = 0;
  await Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      store.appendMessage(room, { author: 'u', text: `${i}`, via: 'http' }),
    ),
  );
  assert.equal(
    batches.reduce((a, b) => a + b, 0),
    400,
  );
  assert.ok(batches.length <= 4, `400 appends took ${batches.length} transactions`);
  await store.close();
});

test('maxBatch bounds how many writes one transaction holds', async () => {
  const batches: number[] = [];
  const store = new SqliteStore({
    dir: freshDir(),
    synchronous: 'full',
    maxBatch: 50,
    onBatch: ({ size }) => batches.push(size),
  });
  const room = await store.createRoom({ name: 'capped', title: 'c', topic: '', private: false, owner: 'o' });
  batches.length = 0;
  await Promise.all(
    Array.from({ length: 120 }, (_, i) =>
      store.appendMessage(room, { author: 'u', text: `${i}`, via: 'http' }),
    ),
  );
  assert.deepEqual(batches, [50, 50, 20]);
  await store.close();
});

test('close commits writes still queued, and later writes are refused', async () => {
  const dir = freshDir();
  const store = new SqliteStore({ dir, synchronous: 'full', maxBatch: 100 });
  const room = await store.createRoom({ name: 'closing', title: 'c', topic: '', private: false, owner: 'o' });
  const pending = store.appendMessage(room, { author: 'u', text: 'queued', via: 'http' });
  await store.close();
  assert.equal((await pending).message.seq, 1);
  await assert.rejects(store.appendMessage(room, { author: 'u', text: 'late', via: 'http' }));
  const reopened = new SqliteStore({ dir, synchronous: 'full', maxBatch: 100 });
  assert.equal((await reopened.getMessage(room, 1))?.text, 'queued');
  await reopened.close();
});

/** An fdatasync store with one room and one message committed whose sync is held. */
async function appendHeld(text: string, options: Partial<SqliteStoreOptions> = {}) {
  const held = heldSyncStore(freshDir(), options);
  const room = await held.store.createRoom({
    name: 'r',
    title: 'R',
    topic: '',
    private: false,
    owner: 'ada',
  });
  held.hold();
  const appended = held.store.appendMessage(room, { author: 'ada', text, via: 'http' });
  await held.committed();
  return { held, store: held.store, room, appended };
}

test('fdatasync mode: a commit is readable before its sync, and untilDurable waits for that sync', async () => {
  const { held, store, room, appended } = await appendHeld('not yet durable');
  try {
    const page = await store.listMessages(room, { after: 0, limit: 10 });
    assert.equal(page.length, 1, 'committed, so readable on this connection');
    const pending = store.untilDurable();
    assert.ok(pending, 'a commit whose sync is still running is not durable');
    let durable = false;
    void pending.then(() => {
      durable = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(durable, false, 'untilDurable waits for the sync');
    held.release();
    await appended;
    await pending;
    assert.equal(durable, true);
    assert.equal(store.untilDurable(), undefined, 'nothing left to sync');
  } finally {
    held.release();
    await store.close();
  }
});

test('fdatasync mode: a failed sync fails its writes, the reads waiting on it, and every durability wait and readiness check after it', async () => {
  const failures: Error[] = [];
  const { held, store, appended } = await appendHeld('lost', { onDiskFailure: (err) => failures.push(err) });
  try {
    const pending = store.untilDurable();
    assert.ok(pending);
    held.fail(new Error('EIO: disk gone'));
    const unavailable = (err: unknown) => (err as { code?: string }).code === 'unavailable';
    const fromTheDisk = (err: unknown) => unavailable(err) && /EIO/.test(String((err as Error).cause));
    await assert.rejects(appended, fromTheDisk);
    await assert.rejects(pending, fromTheDisk, "readers get unavailable too, with the disk's error as cause");
    assert.deepEqual(
      failures.map((e) => e.message),
      ['EIO: disk gone'],
      'reported once, for the log',
    );
    await assert.rejects(store.untilDurable()!, unavailable, 'nothing is durable again');
    await assert.rejects(store.ping(), unavailable, 'so the node is not ready');
  } finally {
    await store.close();
  }
});
