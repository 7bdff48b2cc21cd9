// What a subscriber is shown is durable: `subbed`'s head and every replayed message wait for the
// sync of the commit that made them, so a power loss cannot hand their seqs out again to other
// text. Live fan-out already waits, since a message is published only after its sync.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import type { RoomRef } from '../../src/store/store.js';
import { heldSyncStore } from '../support/held-sync.js';
import { startServer, tempDir, userApi } from '../support/server.js';
import { connectWs } from '../support/ws.js';

async function heldServer(t: Parameters<typeof startServer>[0] & object, messages: number) {
  const dir = tempDir();
  const held = heldSyncStore(dir);
  // Hooks run in the order they were added: let held syncs go before the node is stopped.
  t.after(() => held.release());
  const server = await startServer(t, { replayPageSize: 2 }, { store: held.store });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  for (let i = 1; i <= messages; i++) await ada.post('/v1/rooms/r/messages', { text: `m${i}` });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  return { held, ada, c };
}

const shown = (frames: Record<string, unknown>[]) =>
  frames.filter((f) => f.type === 'subbed' || f.type === 'msg').map((f) => `${f.type} ${f.seq}`);

test('subbed waits for the sync of the head it shows', async (t) => {
  const { held, ada, c } = await heldServer(t, 1);
  held.hold();
  const posting = ada.post('/v1/rooms/r/messages', { text: 'm2' });
  await held.committed(); // m2 is committed, so readable, and not yet on disk
  c.send({ type: 'sub', room: 'r', since: 0, ref: 's' });
  await held.readerWaiting();
  assert.deepEqual(shown(c.frames), [], 'neither the head (2) nor m2 is shown before m2 is durable');
  held.release();
  await c.next((f) => f.type === 'msg' && f.seq === 2);
  assert.equal((await posting).status, 201);
  await ada.post('/v1/rooms/r/messages', { text: 'm3' });
  await c.next((f) => f.type === 'msg' && f.seq === 3);
  assert.deepEqual(shown(c.frames), ['subbed 2', 'msg 1', 'msg 2', 'msg 3'], 'no gap, no duplicate');
});

test('a replayed page waits for the sync of a message committed while the replay ran', async (t) => {
  const { held, ada, c } = await heldServer(t, 4);
  // The head (4) is read and shown at once; as the replay reads its first page, m5 commits
  // and its sync is held, so the pages that follow can read it before it is durable.
  const listMessages = held.store.listMessages.bind(held.store);
  let first = true;
  let posting: Promise<{ status: number }> | undefined;
  held.store.listMessages = async (room: RoomRef, query) => {
    if (first) {
      first = false;
      held.hold();
      posting = ada.post('/v1/rooms/r/messages', { text: 'm5' });
      await held.committed();
    }
    return listMessages(room, query);
  };
  c.send({ type: 'sub', room: 'r', since: 0 });
  await held.readerWaiting();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!shown(c.frames).includes('msg 5'), 'm5 is not replayed before it is durable');
  held.release();
  await c.next((f) => f.type === 'msg' && f.seq === 5);
  assert.equal((await posting)?.status, 201);
  assert.deepEqual(shown(c.frames), ['subbed 4', 'msg 1', 'msg 2', 'msg 3', 'msg 4', 'msg 5']);
});

test('after a failed sync, a sub gets error unavailable with its ref, and so does the next', async (t) => {
  const { held, ada, c } = await heldServer(t, 1);
  held.hold();
  const posting = ada.post('/v1/rooms/r/messages', { text: 'lost' });
  await held.committed();
  c.send({ type: 'sub', room: 'r', since: 0, ref: 's' });
  await held.readerWaiting();
  held.fail(new Error('EIO: the disk went away'));
  const error = await c.next((f) => f.type === 'error');
  assert.deepEqual([error.code, error.ref], ['unavailable', 's']);
  assert.equal((await posting).status, 503, 'the post was not acknowledged');
  c.send({ type: 'sub', room: 'r', since: 0, ref: 'again' });
  const again = await c.next((f) => f.type === 'error' && f.ref === 'again');
  assert.equal(again.code, 'unavailable', 'nothing read after a failed sync can be promised durable');
  assert.deepEqual(shown(c.frames), [], 'the lost message is never shown');
});
