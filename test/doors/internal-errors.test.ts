// A failure that is not the client's doing (a bug, a store that broke): on every frame door the
// client gets `internal` with its ref and no detail, the node's log gets the whole error, and
// the connection keeps serving.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { SqliteStore } from '../../src/store/store-sqlite.js';
import { startServer, tempDir, userApi } from '../support/server.js';
import { connectTcp } from '../support/tcp.js';
import { connectWs } from '../support/ws.js';

test('a store failure answers internal with the ref, logs the error with its door, and the connection stays usable', async (t) => {
  const logged: { msg: string; door: string; frame: string; err: { message: string } }[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const store = new SqliteStore({ dir: tempDir(), synchronous: 'full', maxBatch: 16 });
  const server = await startServer(t, {}, { logger, store });
  const ada = await userApi(server, 'ada');
  assert.equal((await ada.post('/v1/rooms', { name: 'r' })).status, 201);
  store.appendMessage = () => Promise.reject(new Error('disk on fire'));

  const ws = await connectWs(server.url, { token: ada.token! });
  t.after(() => ws.close());
  ws.send({ type: 'pub', room: 'r', text: 'lost', ref: 'w1' });
  const wsError = await ws.next((f) => f.type === 'error');
  assert.deepEqual(
    { code: wsError.code, ref: wsError.ref, room: wsError.room },
    { code: 'internal', ref: 'w1', room: 'r' },
  );
  assert.doesNotMatch(JSON.stringify(wsError), /disk on fire/, 'no detail for the client');
  ws.send({ type: 'ping', ref: 'still there' });
  assert.equal((await ws.next((f) => f.type === 'pong')).ref, 'still there');

  const tcp = await connectTcp(server.addresses().find((a) => a.door === 'tcp')!.port);
  t.after(() => tcp.socket.destroy());
  tcp.send({ type: 'auth', token: ada.token });
  tcp.send({ type: 'pub', room: 'r', text: 'lost', ref: 't1' });
  const tcpError = await tcp.next((f) => f.type === 'error');
  assert.deepEqual([tcpError.code, tcpError.ref], ['internal', 't1']);
  tcp.send({ type: 'ping', ref: 'p' });
  assert.equal((await tcp.next((f) => f.type === 'pong')).ref, 'p');

  // The hub's own read of the room (after the access check's) fails: internal too, not hidden.
  const getRoom = store.getRoom.bind(store);
  let reads = 0;
  store.getRoom = (name) => (++reads === 2 ? Promise.reject(new Error('disk on fire')) : getRoom(name));
  ws.send({ type: 'sub', room: 'r', ref: 'w2' });
  const subError = await ws.next((f) => f.type === 'error' && f.ref === 'w2');
  assert.equal(subError.code, 'internal');
  store.getRoom = getRoom;
  ws.send({ type: 'sub', room: 'r', ref: 'w3' });
  assert.equal(
    (await ws.next((f) => f.type === 'subbed')).ref,
    'w3',
    'nothing of the failed sub was left behind',
  );

  const failures = logged.filter((l) => l.msg === 'frame failed');
  assert.deepEqual(
    failures.map((l) => [l.door, l.frame, l.err.message]),
    [
      ['ws', 'pub', 'disk on fire'],
      ['tcp', 'pub', 'disk on fire'],
      ['ws', 'sub', 'disk on fire'],
    ],
  );
});
