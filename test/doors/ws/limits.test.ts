// The WebSocket door's edges: Origin allow-list, payload limit, binary frames, per-connection
// rate limits, heartbeat, subscription limit, and shutdown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';
import { OVERSIZE_READ_MARGIN } from '../../../src/doors/ws/ws-door.js';
import { clientFrame, rawSubscribe, rawWs, readServerFrames } from '../../support/raw-ws.js';
import { connectWs } from '../../support/ws.js';

test('browsers may connect from the server’s own origin or an allowed one, not from elsewhere (403)', async (t) => {
  const server = await startServer(t, { wsOrigins: 'https://chat.example' });
  const ada = await userApi(server, 'ada');
  const own = await connectWs(server.url, { token: ada.token!, headers: { origin: server.url } });
  own.close();
  const allowed = await connectWs(server.url, {
    token: ada.token!,
    headers: { origin: 'https://chat.example' },
  });
  allowed.close();
  await assert.rejects(
    connectWs(server.url, { token: ada.token!, headers: { origin: 'https://evil.example' } }),
    (err: any) => err.status === 403,
  );
  const noOrigin = await connectWs(server.url, { token: ada.token! });
  noOrigin.close();
});

test('a message over wsMaxPayload closes the connection with 1009; others are unaffected', async (t) => {
  const server = await startServer(t, { wsMaxPayload: 1024 });
  const ada = await userApi(server, 'ada');
  const big = await connectWs(server.url, { token: ada.token! });
  const other = await connectWs(server.url, { token: ada.token! });
  t.after(() => other.close());
  big.send({ type: 'ping', ref: 'x'.repeat(2000) });
  assert.equal((await big.closed()).code, 1009);
  // Told why first, with the stable code.
  const told = big.frames.find((f) => f.type === 'error');
  assert.equal(told?.code, 'frame_too_large');
  assert.match(told?.message, /1024 bytes/);
  // Past wsMaxPayload + OVERSIZE_READ_MARGIN it is refused from its header, unread: 1009 alone.
  const huge = await connectWs(server.url, { token: ada.token! });
  huge.send({ type: 'ping', ref: 'x'.repeat(1024 + OVERSIZE_READ_MARGIN + 1) });
  assert.equal((await huge.closed()).code, 1009);
  other.send({ type: 'ping', ref: 1 });
  assert.equal((await other.next((f) => f.type === 'pong')).ref, 1);
});

test('no data frame follows a close frame, even while the peer has not answered it', async (t) => {
  const server = await startServer(t, { wsMaxPayload: 1024 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const raw = await rawWs(server.url, ada.token!);
  t.after(() => raw.destroy());
  const read = readServerFrames(raw);
  await rawSubscribe(raw, read, 'r');
  // ws itself closes on this one (1009, from the header), while messages keep being published.
  raw.write(clientFrame('x'.repeat(1024 + OVERSIZE_READ_MARGIN + 1)));
  while (!read.frames.some((f) => f.opcode === 0x8)) await new Promise((r) => setTimeout(r, 10));
  for (let i = 1; i <= 3; i++) await ada.post('/v1/rooms/r/messages', { text: `after close ${i}` });
  assert.equal(await read.closeCode, 1009);
  if (!raw.destroyed) await new Promise((r) => raw.once('close', r));
  assert.equal(read.afterClose(), 0, 'frames were written after the close frame');
});

test('binary frames and malformed frames get error frames; the connection stays usable', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal((await c.next((f) => f.type === 'error')).code, 'bad_request');
  const cases: [string, string][] = [
    ['{not json', 'malformed_json'],
    ['[1,2]', 'validation_failed'],
    ['{"type":"dance","ref":"d"}', 'unknown_frame'],
    ['{"type":"sub","room":"Bad Name","ref":"n"}', 'validation_failed'],
    ['{"type":"pub","room":"x","text":"hi","extra":1,"ref":"e"}', 'validation_failed'],
    ['{"type":"sub","room":"nowhere","ref":"w"}', 'room_not_found'],
    [
      JSON.stringify({ type: 'pub', room: 'x', text: 'y'.repeat(server.config.maxTextLength + 1), ref: 'l' }),
      'text_too_long',
    ],
    ['{"type":"pub","room":"x","text":"","ref":"z"}', 'text_invalid'],
    ['{"type":"pub","room":"x","text":" \\n ","ref":"b"}', 'text_invalid'],
  ];
  for (const [text, code] of cases) {
    const from = c.frames.length;
    c.send(text);
    const error = await c.next((f) => f.type === 'error', 5000, from);
    assert.equal(error.code, code, text);
  }
  const withRef = c.frames.filter((f) => f.type === 'error' && f.ref !== undefined).map((f) => f.ref);
  assert.deepEqual(
    withRef,
    ['d', 'n', 'e', 'w', 'l', 'z', 'b'],
    'errors carry the offending ref when it could be read',
  );
  c.send({ type: 'ping', ref: 'still-here' });
  assert.equal((await c.next((f) => f.type === 'pong')).ref, 'still-here');
});

test('pub is rate-limited per connection with rate_limited errors, and the connection stays open', async (t) => {
  const server = await startServer(t, { rateLimits: true, framePubPerSecond: 1, framePubBurst: 3 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  for (let i = 0; i < 5; i++) c.send({ type: 'pub', room: 'r', text: `m${i}`, ref: i });
  await c.next((f) => f.type === 'error' && f.ref === 4);
  await c.next((f) => f.type === 'ack' && f.ref === 2);
  const answers = [0, 1, 2, 3, 4].map((ref) => c.frames.find((f) => f.ref === ref)?.type);
  assert.deepEqual(answers, ['ack', 'ack', 'ack', 'error', 'error']);
  assert.equal(c.frames.find((f) => f.ref === 3)?.code, 'rate_limited');
  const other = await connectWs(server.url, { token: ada.token! });
  t.after(() => other.close());
  other.send({ type: 'pub', room: 'r', text: 'another connection', ref: 'o' });
  assert.equal((await other.next((f) => f.ref === 'o')).type, 'ack', 'limits are per connection');
});

test('a peer that stops answering pings is dropped within two intervals', async (t) => {
  const server = await startServer(t, { wsPingInterval: 150 });
  const ada = await userApi(server, 'ada');
  const silent = await rawWs(server.url, ada.token!); // reads, but never answers a ping
  silent.on('data', () => {});
  const started = Date.now();
  await new Promise<void>((resolve) => silent.once('close', () => resolve()));
  const after = Date.now() - started;
  assert.ok(after < 2000, `dropped after ${after} ms`);
  while (server.ws.size > 0 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.ws.size, 0);
  // A polite client (ws answers pings itself) stays.
  const polite = await connectWs(server.url, { token: ada.token! });
  t.after(() => polite.close());
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(server.ws.size, 1);
});

test('a connection may hold maxSubscriptions rooms; one more is refused', async (t) => {
  const server = await startServer(t, { maxSubscriptions: 2 });
  const ada = await userApi(server, 'ada');
  for (const name of ['a', 'b', 'c']) await ada.post('/v1/rooms', { name });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  for (const room of ['a', 'b', 'c']) c.send({ type: 'sub', room, ref: room });
  const refused = await c.next((f) => f.type === 'error');
  assert.deepEqual([refused.code, refused.ref], ['too_many_subscriptions', 'c']);
  c.send({ type: 'unsub', room: 'a', ref: 'u' });
  await c.next((f) => f.type === 'unsubbed');
  c.send({ type: 'sub', room: 'c', ref: 'c2' });
  assert.equal((await c.next((f) => f.type === 'subbed' && f.ref === 'c2')).room, 'c');
});

test('stopping the server closes WebSockets with 1001 so clients reconnect elsewhere', async () => {
  const server = await startServer(undefined);
  const ada = await userApi(server, 'ada');
  const c = await connectWs(server.url, { token: ada.token! });
  const closed = c.closed();
  await server.stop();
  assert.equal((await closed).code, 1001);
});

test('a frame sent masked by hand is understood (the door speaks plain RFC 6455)', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const s = await rawWs(server.url, ada.token!);
  t.after(() => s.destroy());
  let got = '';
  s.on('data', (d) => {
    got += d.toString('latin1');
  });
  s.write(clientFrame(JSON.stringify({ type: 'ping', ref: 'raw' })));
  const deadline = Date.now() + 5000;
  while (!got.includes('"ref":"raw"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(got.includes('{"type":"pong","ref":"raw"}'));
});

test('permessage-deflate is off by default and negotiated when wsCompression is on', async (t) => {
  const plain = await startServer(t);
  const ada = await userApi(plain, 'ada');
  const c1 = await connectWs(plain.url, { token: ada.token! });
  t.after(() => c1.close());
  assert.equal(c1.ws.extensions, '');
  const squeezed = await startServer(t, { wsCompression: true });
  const bob = await userApi(squeezed, 'bob');
  await bob.post('/v1/rooms', { name: 'z' });
  const c2 = await connectWs(squeezed.url, { token: bob.token! });
  t.after(() => c2.close());
  assert.match(c2.ws.extensions, /permessage-deflate/);
  c2.send({ type: 'sub', room: 'z' });
  await c2.next((f) => f.type === 'subbed');
  c2.send({ type: 'pub', room: 'z', text: 'compressed '.repeat(50), ref: 1 });
  assert.equal((await c2.next((f) => f.type === 'msg')).text, 'compressed '.repeat(50));
});
