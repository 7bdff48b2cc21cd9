// WalSync and the group commit on top of it: nothing resolves before a sync that began after its
// commit, syncs are shared by whoever commits meanwhile, and a failed sync fails its batch.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Database } from '../../src/store/sqlite-driver.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import { WalSync } from '../../src/store/wal-sync.js';
import { tempDir } from '../support/server.js';

test('callers during a running sync share the next one, which starts only after it', async () => {
  const db = join(tempDir('porthouse-wal-'), 'x.db');
  writeFileSync(`${db}-wal`, 'log');
  const wal = new WalSync(db);
  const first = wal.sync();
  const second = wal.sync();
  const third = wal.sync();
  assert.notEqual(first, second, 'the running sync may predate the second caller');
  assert.equal(second, third, 'the second and third share one');
  await Promise.all([first, second, third]);
  assert.equal(wal.syncs, 2);
  await wal.sync();
  assert.equal(wal.syncs, 3, 'idle again: a new caller starts its own at once');
  await wal.close();
});

test('a group commit resolves its writes only once the sync after the commit returned', async () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  let release!: () => void;
  let syncs = 0;
  const commits = new GroupCommit(db, {
    maxBatch: 10,
    sync: () => {
      syncs++;
      return new Promise<void>((r) => {
        release = r;
      });
    },
  });
  let done = false;
  const write = commits
    .run(() => insert.run(1))
    .then(() => {
      done = true;
    });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(syncs, 1, 'committed, then asked for a sync');
  assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 1, 'committed');
  assert.equal(done, false, 'not acknowledged before the sync returns');
  release();
  await write;
  assert.equal(done, true);
});

test('a failed sync fails every write of its batch', async () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const commits = new GroupCommit(db, { maxBatch: 10, sync: () => Promise.reject(new Error('EIO')) });
  const results = await Promise.allSettled([
    commits.run(() => insert.run(1)),
    commits.run(() => insert.run(2)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
});

const unavailable = (err: unknown) => (err as { code?: string }).code === 'unavailable';

test('after a failed sync nothing is acknowledged again: later writes, a batch already waiting and durability waits all fail with unavailable', async () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  let calls = 0;
  let failFirst!: (err: Error) => void;
  let previous: Promise<void> = Promise.resolve();
  const commits = new GroupCommit(db, {
    maxBatch: 1,
    // As WalSync does, each sync starts after the one before it; the first fails, and the one
    // chained behind it reports success, as a kernel that dropped the failed pages would.
    sync: () => {
      const after = previous;
      previous =
        ++calls === 1
          ? new Promise<void>((_, reject) => {
              failFirst = reject;
            })
          : after.then(
              () => {},
              () => {},
            );
      return previous;
    },
  });
  const first = commits.run(() => insert.run(1));
  const second = commits.run(() => insert.run(2)); // a batch of its own (maxBatch 1)
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, 2);
  failFirst(new Error('EIO'));
  await assert.rejects(first, (err: unknown) => unavailable(err) && /EIO/.test(String((err as Error).cause)));
  await assert.rejects(second, unavailable);
  await assert.rejects(
    commits.run(() => insert.run(3)),
    unavailable,
  );
  await assert.rejects(commits.untilSynced()!, unavailable);
  assert.match(String(commits.broken), /EIO/);
});

test('once a sync failed, writes queued before it are refused unwritten, and a throwing failure report changes nothing', {
  timeout: 5000,
}, async () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  let failSync!: (err: Error) => void;
  const commits = new GroupCommit(db, {
    maxBatch: 10,
    sync: () =>
      new Promise<void>((_, reject) => {
        failSync = reject;
      }),
    onBroken: () => {
      throw new Error('the logger broke too');
    },
  });
  const first = commits.run(() => insert.run(1));
  await new Promise((r) => setImmediate(r)); // committed; its sync is running
  const queued = commits.run(() => insert.run(2)); // waits for the next turn's batch
  failSync(new Error('EIO'));
  await assert.rejects(first, unavailable);
  await assert.rejects(queued, unavailable);
  assert.deepEqual(
    db
      .prepare('SELECT v FROM t')
      .all()
      .map((r) => (r as { v: number }).v),
    [1],
    'the queued write never reached the log',
  );
});

test('closing a WalSync whose file never opened resolves', async () => {
  const wal = new WalSync(join(tempDir(), 'missing', 'porthouse.db'));
  await assert.rejects(wal.sync());
  await wal.close();
});
