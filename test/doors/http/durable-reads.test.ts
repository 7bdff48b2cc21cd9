// A REST read answers only with what survives a power loss: a GET that reads a commit whose sync
// is still running waits for that sync (SQLite's default `fdatasync` mode), so no client holds a
// seq or an ETag that a power loss could hand out again with other content.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { type HeldSync, heldSyncStore } from '../../support/held-sync.js';
import { type Api, startServer, tempDir, userApi } from '../../support/server.js';

const settled = async (p: Promise<unknown>) => {
  let done = false;
  const mark = () => {
    done = true;
  };
  void p.then(mark, mark);
  await new Promise((r) => setImmediate(r));
  return done;
};

async function heldServer(t: Parameters<typeof startServer>[0] & object) {
  const dir = tempDir();
  const held = heldSyncStore(dir);
  // Hooks run in the order they were added: let held syncs go before the node is stopped.
  t.after(() => held.release());
  const server = await startServer(t, {}, { store: held.store });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  await ada.post('/v1/rooms/r/messages', { text: 'm1' });
  return { held, ada, server };
}

/** Post `text` with its sync held: on return it is committed (readable) and not yet on disk. */
async function postHeld(held: HeldSync, ada: Api, text: string) {
  held.hold();
  const posting = ada.post('/v1/rooms/r/messages', { text });
  await held.committed();
  return { posting };
}

test('a GET waits for the sync of a commit it may have read, then answers with it', async (t) => {
  const { held, ada } = await heldServer(t);
  const { posting } = await postHeld(held, ada, 'm2');
  const history = ada.get<{ seq: number }[]>('/v1/rooms/r/messages');
  await held.readerWaiting();
  assert.equal(await settled(history), false, 'history waits for m2 to be durable');
  held.release();
  const [h, p] = await Promise.all([history, posting]);
  assert.equal(h.status, 200);
  assert.deepEqual(
    h.body.map((m) => m.seq),
    [1, 2],
  );
  assert.equal(p.status, 201);

  const { posting: again } = await postHeld(held, ada, 'm3');
  const rooms = ada.get<{ name: string; lastSeq: number }[]>('/v1/rooms');
  await held.readerWaiting();
  assert.equal(await settled(rooms), false, 'so does the room list, whose lastSeq moved');
  held.release();
  assert.equal((await rooms).body.find((r) => r.name === 'r')?.lastSeq, 3);
  assert.equal((await again).status, 201);
  assert.equal(held.store.untilDurable(), undefined, 'with nothing unsynced a read has nothing to wait for');
});

test('a write with nothing to write (a second DELETE) answers what it read only once that is durable', async (t) => {
  const { held, ada } = await heldServer(t);
  held.hold();
  const deleting = ada.delete('/v1/rooms/r/messages/1');
  await held.committed(); // the tombstone is readable, not yet on disk
  const again = ada.delete('/v1/rooms/r/messages/1');
  await held.readerWaiting();
  assert.equal(await settled(again), false, 'the second DELETE waits for the sync of the first');
  held.release();
  const [first, second] = await Promise.all([deleting, again]);
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  assert.equal((second.body as { deleted: boolean }).deleted, true);
});

test('an admin right set to what it already is answers what it read only once that is durable', async (t) => {
  const { held, server } = await heldServer(t);
  const root = await userApi(server, 'root', { admin: true });
  await userApi(server, 'bob');
  held.hold();
  const granting = root.patch('/v1/users/bob', { admin: true });
  await held.committed(); // bob is an admin on the connection, not yet on disk
  const again = root.patch('/v1/users/bob', { admin: true });
  await held.readerWaiting();
  assert.equal(await settled(again), false, 'the no-op waits for the sync of the grant it read');
  held.release();
  const [first, second] = await Promise.all([granting, again]);
  assert.equal(first.status, 200);
  assert.deepEqual([second.status, (second.body as { admin: boolean }).admin], [200, true]);
});

test('a login for a user whose creation is not yet on disk waits for it before issuing a token', async (t) => {
  const { held, server } = await heldServer(t);
  held.hold();
  const creating = server.api.post('/v1/users', { name: 'bob', password: 'a long enough password' });
  await held.committed();
  const login = server.api.post('/v1/tokens', { name: 'bob', password: 'a long enough password' });
  await held.readerWaiting();
  assert.equal(await settled(login), false, 'no token a power loss would outlive');
  held.release();
  assert.equal((await creating).status, 201);
  assert.equal((await login).status, 201);
});

test('probes, metrics and docs never wait on the disk', async (t) => {
  const { held, ada, server } = await heldServer(t);
  const { posting } = await postHeld(held, ada, 'm2');
  for (const path of ['/healthz', '/metrics', '/openapi.json'])
    assert.equal((await fetch(server.url + path, { signal: AbortSignal.timeout(2000) })).status, 200, path);
  held.release();
  assert.equal((await posting).status, 201);
});

test('after a failed sync, the read waiting on it gets 503 unavailable without its ETag, and the node refuses writes and is not ready', async (t) => {
  const { held, ada, server } = await heldServer(t);
  const { posting } = await postHeld(held, ada, 'lost');
  const history = ada.get('/v1/rooms/r/messages');
  await held.readerWaiting();
  held.fail(new Error('EIO: the disk went away'));
  const h = await history;
  assert.equal(h.status, 503);
  assert.equal((h.body as { code: string }).code, 'unavailable');
  assert.match(h.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(h.headers.get('etag'), null, 'no validator for data that may be lost');
  const p = await posting;
  assert.deepEqual([p.status, (p.body as { code: string }).code], [503, 'unavailable'], 'not acknowledged');
  // A later sync could report success for pages the kernel dropped: nothing is trusted again.
  const next = await ada.post('/v1/rooms/r/messages', { text: 'next' });
  assert.equal(next.status, 503);
  assert.equal((await ada.get('/v1/rooms/r/messages')).status, 503, 'the lost message is never shown');
  assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'alive, so an operator can look');
});
