// A REST read answers only with what survives a power loss: a GET that reads a commit whose sync
// is still running waits for that sync (SQLite's default `fdatasync` mode), so no client holds a
// seq or an ETag that a power loss could hand out again with other content.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { heldSyncStore } from '../../support/held-sync.js';
import { startServer, tempDir, userApi } from '../../support/server.js';

const settledWithin = async (p: Promise<unknown>, ms: number) => {
  let settled = false;
  void p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((r) => setTimeout(r, ms));
  return settled;
};

async function heldServer(t: Parameters<typeof startServer>[0] & object) {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const held = heldSyncStore(dir);
  const server = await startServer(t, {}, { store: held.store });
  t.after(() => held.release());
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  await ada.post('/v1/rooms/r/messages', { text: 'm1' });
  return { held, ada };
}

test('a GET waits for the sync of a commit it may have read, then answers with it', async (t) => {
  const { held, ada } = await heldServer(t);
  held.hold();
  const posting = ada.post('/v1/rooms/r/messages', { text: 'm2' });
  await held.waiting();
  const history = ada.get<{ seq: number }[]>('/v1/rooms/r/messages');
  const room = ada.get<{ lastSeq: number }>('/v1/rooms/r');
  assert.equal(await settledWithin(history, 150), false, 'history waits for m2 to be durable');
  assert.equal(await settledWithin(room, 0), false, 'so does the room, whose lastSeq and ETag moved');
  held.release();
  const [h, r, p] = await Promise.all([history, room, posting]);
  assert.equal(h.status, 200);
  assert.deepEqual(
    h.body.map((m) => m.seq),
    [1, 2],
  );
  assert.equal(r.status, 200);
  assert.equal(p.status, 201);
  const quick = ada.get('/v1/rooms/r/messages');
  assert.equal(await settledWithin(quick, 150), true, 'with nothing unsynced a GET does not wait');
});

test('a GET whose data could not be made durable answers 503 unavailable, and the node serves on', async (t) => {
  const { held, ada } = await heldServer(t);
  held.hold();
  const posting = ada.post('/v1/rooms/r/messages', { text: 'lost' });
  await held.waiting();
  const history = ada.get('/v1/rooms/r/messages');
  assert.equal(await settledWithin(history, 150), false, 'the GET read the commit and waits for its sync');
  held.fail(new Error('EIO: the disk went away'));
  const h = await history;
  assert.equal(h.status, 503);
  assert.equal((h.body as { code: string }).code, 'unavailable');
  assert.match(h.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.ok((await posting).status >= 500, 'the post was not acknowledged');
  const after = await ada.post('/v1/rooms/r/messages', { text: 'next' });
  assert.equal(after.status, 201);
  assert.equal((await ada.get('/v1/rooms/r/messages')).status, 200);
});
