// The TCP door as `nc` sees it: one JSON frame per line, the WebSocket door's frames and rules,
// messages shared with every other door in seq order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type TestServer, startServer, userApi } from '../../support/server.js';
import { connectWs } from '../../support/ws.js';
import { connectTcp as connectTcpTo } from '../../support/tcp.js';
import { floodUntilCut, oneTo } from '../../support/flood.js';

const connectTcp = (server: TestServer) =>
  connectTcpTo(server.addresses().find((a) => a.door === 'tcp')!.port);

test('auth, sub, pub over lines: acked, delivered to WebSocket subscribers and the history, in order', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const ws = await connectWs(server.url, { token: ada.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'r' });
  await ws.next((f) => f.type === 'subbed');
  const c = await connectTcp(server);
  t.after(() => c.socket.destroy());
  c.send({ type: 'auth', token: ada.token });
  assert.equal((await c.next((f) => f.type === 'ready')).user, 'ada');
  c.send({ type: 'sub', room: 'r', since: 0 });
  await c.next((f) => f.type === 'subbed');
  c.send({ type: 'pub', room: 'r', text: 'from nc', ref: 't1' });
  assert.deepEqual(await c.next((f) => f.type === 'ack'), { type: 'ack', room: 'r', seq: 1, ref: 't1' });
  const got = await ws.next((f) => f.type === 'msg');
  assert.deepEqual([got.seq, got.via, got.text], [1, 'tcp', 'from nc']);
  await ada.post('/v1/rooms/r/messages', { text: 'from http' });
  assert.equal((await c.next((f) => f.type === 'msg' && f.seq === 2)).via, 'http');
  const history = (await ada.get('/v1/rooms/r/messages')).body.map((m: any) => [m.seq, m.via]);
  assert.deepEqual(history, [
    [1, 'tcp'],
    [2, 'http'],
  ]);
});

test('a frame split across writes and several frames in one write are both understood', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const c = await connectTcp(server);
  t.after(() => c.socket.destroy());
  const auth = JSON.stringify({ type: 'auth', token: ada.token });
  c.send(auth.slice(0, 10));
  await new Promise((r) => setTimeout(r, 50));
  c.send(`${auth.slice(10)}\n`);
  await c.next((f) => f.type === 'ready');
  c.send('{"type":"ping","ref":1}\n{"type":"ping","ref":2}\r\n\n{"type":"ping","ref":3}\n');
  await c.next((f) => f.type === 'pong' && f.ref === 3);
  assert.deepEqual(
    c.frames.filter((f) => f.type === 'pong').map((f) => f.ref),
    [1, 2, 3],
  );
});

test('bad lines get error frames and the connection stays usable; an over-long line closes it', async (t) => {
  const server = await startServer(t, { tcpMaxLine: 1024 });
  const ada = await userApi(server, 'ada');
  const c = await connectTcp(server);
  c.send({ type: 'auth', token: ada.token });
  await c.next((f) => f.type === 'ready');
  c.send('not json\n');
  assert.equal((await c.next((f) => f.type === 'error')).code, 'malformed_json');
  c.socket.write(Buffer.from([0xff, 0xfe, 0x0a]));
  await c.next((f) => f.type === 'error' && f.code === 'bad_request');
  c.send({ type: 'ping', ref: 'alive' });
  await c.next((f) => f.type === 'pong');
  const other = await connectTcp(server);
  t.after(() => other.socket.destroy());
  c.send(`${'x'.repeat(2000)}\n`);
  assert.equal(
    (await c.next((f) => f.type === 'error' && f.code === 'frame_too_large')).code,
    'frame_too_large',
  );
  await c.ended();
  other.send({ type: 'ping', ref: 'bystander' });
  assert.equal((await other.next((f) => f.type === 'pong')).ref, 'bystander', 'others are unaffected');
});

test('no auth within the deadline, or silence past the idle timeout, ends the connection with a reason', async (t) => {
  const server = await startServer(t, { wsAuthTimeout: 150, tcpIdleTimeout: 1000 });
  const ada = await userApi(server, 'ada');
  const lazy = await connectTcp(server);
  await lazy.ended();
  assert.equal(lazy.frames.at(-1)?.code, 'unauthorized');
  const quiet = await connectTcp(server);
  quiet.send({ type: 'auth', token: ada.token });
  await quiet.next((f) => f.type === 'ready');
  await quiet.ended();
  assert.equal(quiet.frames.at(-1)?.code, 'idle_timeout');
});

test('the server’s stop ends TCP connections with unavailable', async () => {
  const server = await startServer(undefined);
  const ada = await userApi(server, 'ada');
  const c = await connectTcp(server);
  c.send({ type: 'auth', token: ada.token });
  await c.next((f) => f.type === 'ready');
  await server.stop();
  await c.ended();
  assert.equal(c.frames.at(-1)?.code, 'unavailable');
});

test('frames written together with auth wait for it: ready, subbed, ack come in order, nothing refused', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const c = await connectTcp(server);
  t.after(() => c.socket.destroy());
  // One write, as `nc` does with pasted lines.
  c.send(
    [
      { type: 'auth', token: ada.token, ref: 'a' },
      { type: 'sub', room: 'lobby', ref: 's' },
      { type: 'pub', room: 'lobby', text: 'first words', ref: 'p' },
    ]
      .map((f) => `${JSON.stringify(f)}\n`)
      .join(''),
  );
  await c.next((f) => f.type === 'ack' && f.ref === 'p');
  const order = c.frames.filter((f) => f.ref !== undefined).map((f) => `${f.type}:${f.ref}`);
  assert.deepEqual(order, ['ready:a', 'subbed:s', 'ack:p']);
  assert.ok(!c.frames.some((f) => f.type === 'error'), JSON.stringify(c.frames));
});

test('a refused token is told and counted once, closes the connection and drops what waited on it', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const c = await connectTcp(server);
  t.after(() => c.socket.destroy());
  c.send(
    `${JSON.stringify({ type: 'auth', token: 'not.a.token' })}\n${JSON.stringify({ type: 'pub', room: 'lobby', text: 'never', ref: 'p' })}\n`,
  );
  await c.ended();
  // One line, the refusal; no word about the pub.
  assert.deepEqual(
    c.frames.map((f) => [f.type, f.code]),
    [['error', 'token_invalid']],
  );
  assert.equal((await ada.get('/v1/rooms/lobby/messages')).body.length, 0);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /porthouse_errors_total\{door="tcp",code="token_invalid"\} 1\n/);
});

test('a slow reader is cut off: it reads what it was sent, then a last slow_consumer line, and resumes with since', {
  timeout: 120_000,
}, async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'burst' });
  const c = await connectTcp(server);
  t.after(() => c.socket.destroy());
  c.send({ type: 'auth', token: ada.token });
  c.send({ type: 'sub', room: 'burst' });
  await c.next((f) => f.type === 'subbed');
  c.socket.pause();
  const sent = await floodUntilCut(server, 'tcp', 'burst');
  // Longer than a plain close waits (2 s): a slow reader is not a dead one.
  await new Promise((r) => setTimeout(r, 2500));
  c.socket.resume();
  await c.ended();
  const last = c.frames.at(-1);
  assert.equal(last.type, 'error');
  assert.equal(last.code, 'slow_consumer');
  const got = c.frames.filter((f) => f.type === 'msg').map((f) => f.seq as number);
  assert.ok(got.length > 0 && got.length < sent, `it read ${got.length} of ${sent} before the cut`);
  assert.deepEqual(got, oneTo(got.length));
  const again = await connectTcp(server);
  t.after(() => again.socket.destroy());
  again.send({ type: 'auth', token: ada.token });
  again.send({ type: 'sub', room: 'burst', since: got.at(-1) });
  await again.next((f) => f.type === 'msg' && f.seq === sent, 20_000);
  const rest = again.frames.filter((f) => f.type === 'msg').map((f) => f.seq as number);
  assert.deepEqual([...got, ...rest], oneTo(sent), 'no gap and no duplicate across the resume');
});
