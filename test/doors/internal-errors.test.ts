// A failure that is not the client's doing (a bug, a store that broke): on every frame door the
// client gets `internal` with its ref and no detail, the node's log gets the whole error, and
// the connection keeps serving.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { SqliteStore } from '../../src/store/store-sqlite.js';
import { startServer, tempDir, userApi } from '../support/server.js';
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

  const port = server.addresses().find((a) => a.door === 'tcp')!.port;
  const sock = connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  sock.on('data', (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      lines.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
  });
  const tcpFrame = async (type: string) => {
    for (let i = 0; i < 200; i++) {
      const f = lines.find((l) => l['type'] === type);
      if (f) return f;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${type} line`);
  };
  sock.write(`${JSON.stringify({ type: 'auth', token: ada.token })}\n`);
  sock.write(`${JSON.stringify({ type: 'pub', room: 'r', text: 'lost', ref: 't1' })}\n`);
  assert.deepEqual(
    { code: (await tcpFrame('error'))['code'], ref: (await tcpFrame('error'))['ref'] },
    { code: 'internal', ref: 't1' },
  );
  sock.write(`${JSON.stringify({ type: 'ping', ref: 'p' })}\n`);
  assert.equal((await tcpFrame('pong'))['ref'], 'p');

  const failures = logged.filter((l) => l.msg === 'frame failed');
  assert.deepEqual(
    failures.map((l) => [l.door, l.frame, l.err.message]),
    [
      ['ws', 'pub', 'disk on fire'],
      ['tcp', 'pub', 'disk on fire'],
    ],
  );
});
