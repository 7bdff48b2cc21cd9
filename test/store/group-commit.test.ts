// The group commit's failures, on a real SQLite database: a write that fails alone fails alone;
// one that makes SQLite roll back the whole transaction fails its batch; a full disk is told as
// one (`unavailable`), not as a bug.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Database } from '../../src/store/sqlite-driver.js';
import { PorthouseError } from '../../src/core/errors.js';
import { GroupCommit } from '../../src/store/group-commit.js';

/** A database a few pages from full: SQLite answers SQLITE_FULL past max_page_count, as on a full disk. */
function nearlyFull() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v BLOB)');
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + 4}`);
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const rows = () => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  return { db, insert, rows };
}

const isDiskFull = (err: unknown) =>
  err instanceof PorthouseError &&
  err.code === 'unavailable' &&
  /disk is full/.test(err.message) &&
  (err.cause as { code?: string }).code === 'SQLITE_FULL';

test('a write that meets a full disk: SQLite rolls back the whole batch, so every write in it is told the disk is full, none is stored or run outside the transaction, and the store carries on', async () => {
  const { db, insert, rows } = nearlyFull();
  const commits = new GroupCommit(db, { maxBatch: 10 });
  const small = commits.run(() => insert.run(Buffer.alloc(10)));
  const huge = commits.run(() => insert.run(Buffer.alloc(1_000_000)));
  const after = commits.run(() => insert.run(Buffer.alloc(10)));
  await assert.rejects(huge, isDiskFull);
  await assert.rejects(small, isDiskFull);
  await assert.rejects(after, isDiskFull);
  assert.equal(rows(), 0, 'what every writer was told: nothing stored');
  assert.equal(db.inTransaction, false);
  await commits.run(() => insert.run(Buffer.alloc(10)));
  assert.equal(rows(), 1, 'a full disk does not break the store: the next batch is served');
  assert.equal(commits.broken, undefined);
});

test('alone in its batch, the same write gets the same answer', async () => {
  const { db, insert, rows } = nearlyFull();
  const commits = new GroupCommit(db, { maxBatch: 10 });
  await assert.rejects(
    commits.run(() => insert.run(Buffer.alloc(1_000_000))),
    isDiskFull,
  );
  assert.equal(rows(), 0);
});

test("a write's own error (a constraint) stays its own, unchanged", async () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER PRIMARY KEY)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const commits = new GroupCommit(db, { maxBatch: 10 });
  const first = commits.run(() => insert.run(1));
  const again = commits.run(() => insert.run(1));
  await first;
  await assert.rejects(
    again,
    (err: unknown) => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
  );
});
