// The backup procedure of docs/operations.md, run for real: pg_dump a live node's database,
// pg_restore it into an empty one, start a node there, and everything durable is back —
// history, rooms, users, the token signing key (old tokens work) — and seqs carry on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startServer, tempDir, userApi } from '../support/server.js';
import { POSTGRES_URL, admin, postgresMissing } from '../support/services.js';

const run = promisify(execFile);
const tools = await run('pg_dump', ['--version']).then(
  () => undefined,
  () => 'pg_dump is not installed (Debian: postgresql-client)',
);
if (tools && process.env.CI === 'true') throw new Error(`CI=true and ${tools}`);
if (tools) process.stderr.write(`\n*** SKIPPING the backup test: ${tools} ***\n\n`);
const skip = (await postgresMissing()) ?? tools;
const stamp = `${process.pid}_${Date.now().toString(36)}`;
const names = [`porthouse_backup_${stamp}`, `porthouse_restored_${stamp}`];

const urlOf = (name: string) => {
  const u = new URL(POSTGRES_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

describe('backup and restore on PostgreSQL', { skip }, () => {
  before(async () => {
    for (const n of names) await admin(`CREATE DATABASE "${n}"`);
  });
  after(async () => {
    for (const n of names) await admin(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
  });

  test('pg_dump of a live node, pg_restore into an empty database: history, users and tokens come back, seqs carry on', async (t) => {
    const [source, restored] = names.map(urlOf) as [string, string];
    const node = await startServer(t, { postgres: source });
    const ada = await userApi(node, 'ada');
    await ada.post('/v1/rooms', { name: 'kept', topic: 'before the backup' });
    for (let i = 1; i <= 30; i++) await ada.post('/v1/rooms/kept/messages', { text: `m${i}` });
    await ada.patch('/v1/rooms/kept/messages/3', { text: 'edited' });
    await ada.delete('/v1/rooms/kept/messages/4');
    const before = (await ada.get('/v1/rooms/kept/messages?limit=100')).body;

    const file = join(tempDir(), 'porthouse.dump');
    await run('pg_dump', ['-Fc', '-d', source, '-f', file]); // while the node is up
    await run('pg_restore', ['--no-owner', '-d', restored, file]);

    const back = await startServer(t, { postgres: restored });
    const adaBack = back.api.as(ada.token);
    assert.equal((await adaBack.get('/v1/me')).status, 200, 'a token issued before the backup works');
    assert.deepEqual(
      (await adaBack.get('/v1/rooms/kept/messages?limit=100')).body,
      before,
      'the same history',
    );
    assert.equal((await adaBack.get('/v1/rooms/kept')).body.topic, 'before the backup');
    const next = await adaBack.post('/v1/rooms/kept/messages', { text: 'after' });
    assert.equal(next.status, 201);
    assert.equal(next.body.seq, 31, 'seqs carry on from the restored head');
    const login = await back.api.post('/v1/tokens', { name: 'ada', password: 'correct horse battery' });
    assert.equal(login.status, 201, 'the password still logs in');
  });
});
