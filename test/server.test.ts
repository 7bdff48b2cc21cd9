// The node's own wiring of its SQLite store: what an operator sees when the disk fails under it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { syncGate } from './support/held-sync.js';
import { startServer, userApi } from './support/server.js';

const metric = async (url: string, name: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

test('a failed WAL sync is logged once as an error, shows as porthouse_store_disk_failed 1, and makes the node not ready', async (t) => {
  const logged: { level: number; msg: string; err?: { message: string } }[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const gate = syncGate();
  const server = await startServer(t, {}, { logger, wrapSync: gate.wrapSync });
  const ada = await userApi(server, 'ada');
  assert.equal((await ada.post('/v1/rooms', { name: 'r' })).status, 201);
  assert.equal(await metric(server.url, 'porthouse_store_disk_failed'), 0, 'reported before anything fails');
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);

  gate.hold();
  const posting = ada.post('/v1/rooms/r/messages', { text: 'lost' });
  await gate.committed();
  gate.fail(new Error('EIO: the disk went away'));
  assert.equal((await posting).status, 503);
  assert.equal((await ada.post('/v1/rooms/r/messages', { text: 'next' })).status, 503);

  assert.equal(await metric(server.url, 'porthouse_store_disk_failed'), 1);
  assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
  const failures = logged.filter((l) => /the disk failed a write or a sync/.test(l.msg));
  assert.equal(failures.length, 1, 'once, not once per refused write');
  assert.equal(failures[0]?.level, 50, 'at error level');
  assert.match(failures[0]?.err?.message ?? '', /EIO/, "with the disk's error");
});
