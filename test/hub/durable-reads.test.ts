// What a subscriber is shown is durable: `subbed`'s head and every replayed message wait for the
// sync of the commit that made them, so a power loss cannot hand their seqs out again to other
// text. Live fan-out already waits, since a message is published only after its sync.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { heldSyncStore } from '../support/held-sync.js';
import { startServer, tempDir, userApi } from '../support/server.js';
import { connectWs } from '../support/ws.js';

test('a sub since shows its head and replays only once the sync of what they show is done', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const held = heldSyncStore(dir);
  const server = await startServer(t, {}, { store: held.store });
  t.after(() => held.release());
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  await ada.post('/v1/rooms/r/messages', { text: 'm1' });

  held.hold();
  const posting = ada.post('/v1/rooms/r/messages', { text: 'm2' });
  await held.waiting(); // m2 is committed, so readable, and not yet on disk
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'sub', room: 'r', since: 0, ref: 's' });
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(
    c.frames.filter((f) => f.type === 'subbed' || f.type === 'msg'),
    [],
    'neither the head (2) nor m2 is shown before m2 is durable',
  );

  held.release();
  assert.equal((await c.next((f) => f.type === 'subbed')).seq, 2);
  await c.next((f) => f.type === 'msg' && f.seq === 2);
  assert.equal((await posting).status, 201);
  await ada.post('/v1/rooms/r/messages', { text: 'm3' });
  await c.next((f) => f.type === 'msg' && f.seq === 3);
  assert.deepEqual(
    c.frames.filter((f) => f.type === 'msg').map((f) => f.seq),
    [1, 2, 3],
    'replayed, then live, with no gap and no duplicate',
  );
});

test('a sub whose head could not be made durable gets error unavailable with its ref, and may subscribe again', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const held = heldSyncStore(dir);
  const server = await startServer(t, {}, { store: held.store });
  t.after(() => held.release());
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  await ada.post('/v1/rooms/r/messages', { text: 'm1' });

  held.hold();
  const posting = ada.post('/v1/rooms/r/messages', { text: 'lost' });
  await held.waiting();
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'sub', room: 'r', since: 0, ref: 's' });
  await new Promise((r) => setTimeout(r, 150));
  held.fail(new Error('EIO: the disk went away'));
  const error = await c.next((f) => f.type === 'error');
  assert.equal(error.code, 'unavailable');
  assert.equal(error.ref, 's');
  assert.ok((await posting).status >= 500, 'the post was not acknowledged');

  c.send({ type: 'sub', room: 'r', since: 0, ref: 'again' });
  assert.equal((await c.next((f) => f.type === 'subbed')).ref, 'again');
  await c.next((f) => f.type === 'msg' && f.seq === 1);
});
