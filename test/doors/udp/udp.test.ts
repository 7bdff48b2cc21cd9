// The UDP door: datagrams carry their own token; pubs are acked once durable and never stored
// twice; subscriptions start only after the address check, and nothing larger than a request
// ever goes to an unverified address.
import assert from 'node:assert/strict';
import { type Socket, createSocket } from 'node:dgram';
import { test } from 'node:test';
import { CookieJar } from '../../../src/doors/udp/cookie.js';
import { type TestServer, startServer, userApi } from '../../support/server.js';
import { connectWs } from '../../support/ws.js';

interface UdpClient {
  readonly socket: Socket;
  readonly frames: any[];
  bytesIn: number;
  bytesOut: number;
  send(frame: object | Buffer): void;
  next(match: (f: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): void;
}

async function udpClient(server: TestServer): Promise<UdpClient> {
  const door = server.addresses().find((a) => a.door === 'udp')!;
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const waiters = new Set<() => void>();
  const client: UdpClient = {
    socket,
    frames: [],
    bytesIn: 0,
    bytesOut: 0,
    send: (frame) => {
      const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(JSON.stringify(frame));
      client.bytesOut += bytes.length;
      socket.send(bytes, door.port, door.host);
    },
    next: (match, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const f = client.frames.find(match);
          if (!f) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(f);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching datagram; last: ${JSON.stringify(client.frames.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => socket.close(),
  };
  socket.on('message', (msg) => {
    client.bytesIn += msg.length;
    client.frames.push(JSON.parse(String(msg)));
    for (const w of [...waiters]) w();
  });
  return client;
}

test('a pub datagram is acked with its seq, reaches a WebSocket subscriber and the history; a retry is not stored twice', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const ws = await connectWs(server.url, { token: ada.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'r' });
  await ws.next((f) => f.type === 'subbed');
  const u = await udpClient(server);
  t.after(() => u.close());
  const pub = { type: 'pub', room: 'r', text: 'over udp', ref: 'u-1', token: ada.token };
  u.send(pub);
  assert.deepEqual(await u.next((f) => f.type === 'ack'), { type: 'ack', room: 'r', seq: 1, ref: 'u-1' });
  u.send(pub); // the ack was "lost": the client retries with the same ref
  await u.next((f) => f.type === 'ack' && u.frames.filter((x) => x.type === 'ack').length === 2);
  assert.deepEqual(
    u.frames.filter((f) => f.type === 'ack').map((f) => f.seq),
    [1, 1],
  );
  const got = await ws.next((f) => f.type === 'msg');
  assert.deepEqual([got.seq, got.via, got.text], [1, 'udp', 'over udp']);
  assert.equal((await ada.get('/v1/rooms/r/messages')).body.length, 1);
});

test('sub first gets a challenge no larger than the request; with the cookie it gets subbed, replay and live events', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  await ada.post('/v1/rooms/r/messages', { text: 'one' });
  const u = await udpClient(server);
  t.after(() => u.close());
  const sub = { type: 'sub', room: 'r', since: 0, token: ada.token };
  u.send(sub);
  const challenge = await u.next((f) => f.type === 'challenge');
  assert.equal(typeof challenge.cookie, 'string');
  assert.ok(u.bytesIn <= u.bytesOut, 'the challenge is smaller than the sub');
  assert.ok(!u.frames.some((f) => f.type === 'msg'), 'nothing is sent before the address is verified');
  u.send({ ...sub, cookie: challenge.cookie });
  assert.equal((await u.next((f) => f.type === 'subbed')).seq, 1);
  assert.equal((await u.next((f) => f.type === 'msg' && f.seq === 1)).text, 'one');
  await ada.post('/v1/rooms/r/messages', { text: 'two' });
  assert.equal((await u.next((f) => f.type === 'msg' && f.seq === 2)).text, 'two');
  const listed = (await (await userApi(server, 'root', { admin: true })).get('/v1/sockets')).body.sockets;
  assert.ok(
    listed.some(
      (s: any) =>
        s.protocol === 'udp' && s.state === 'subscribed' && s.remotePort === u.socket.address().port,
    ),
  );
});

test('a flood of unverified subs (as from a spoofed source) gets back no more bytes than it sent', async (t) => {
  const server = await startServer(t, { udpPerSecond: 1000 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  for (let i = 0; i < 30; i++)
    await ada.post('/v1/rooms/r/messages', { text: `history ${i}`.padEnd(500, '.') });
  const u = await udpClient(server);
  t.after(() => u.close());
  for (let i = 0; i < 200; i++)
    u.send({ type: 'sub', room: 'r', since: 0, token: ada.token, cookie: `forged-${i}`.padEnd(22, 'x') });
  for (let i = 0; i < 50; i++) u.send(Buffer.from('x'));
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(u.bytesIn <= u.bytesOut, `sent ${u.bytesOut} bytes, got ${u.bytesIn}`);
  assert.ok(!u.frames.some((f) => f.type === 'msg'), 'no event went to the unverified address');
  assert.ok(u.frames.filter((f) => f.type === 'challenge').length > 0);
});

test('bad datagrams get a short error or are dropped and counted; the door keeps serving', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const u = await udpClient(server);
  t.after(() => u.close());
  u.send(Buffer.from(`{"not json ${' '.repeat(100)}`)); // large enough for an error to fit
  assert.equal((await u.next((f) => f.type === 'error')).code, 'malformed_json');
  u.send({
    type: 'pub',
    room: 'r',
    text: 'no token here, but a text long enough for an error to fit',
    ref: 'x',
  });
  assert.equal((await u.next((f) => f.code === 'unauthorized')).ref, 'x');
  // `auth` belongs to connections: told so plainly, with or without a token on it.
  const padding = 'x'.repeat(100); // room for the error to fit
  for (const [ref, frame] of [
    ['a1', { type: 'auth', token: ada.token, ref: 'a1', padding }],
    ['a2', { type: 'auth', ref: 'a2', padding }],
  ] as const) {
    u.send(frame);
    const refused = await u.next((f) => f.ref === ref);
    assert.deepEqual(
      [refused.code, refused.message],
      ['bad_request', 'UDP has no connection to authenticate: put "token" in every frame.'],
    );
  }
  u.send({ type: 'sub', room: 'Bad Room', token: ada.token, ref: 'b' });
  assert.equal((await u.next((f) => f.ref === 'b')).code, 'validation_failed');
  u.send({ type: 'pub', room: 'nowhere', text: 'hi', token: ada.token, ref: 'n' });
  assert.equal((await u.next((f) => f.ref === 'n')).code, 'room_not_found');
  u.send(Buffer.from('x')); // one byte: any answer would be larger, so none comes
  u.send({ type: 'ping', ref: 'p' });
  await u.next((f) => f.type === 'pong');
  const metrics = String((await server.api.get('/metrics')).body);
  assert.match(metrics, /porthouse_udp_dropped_total\{reason="reply_larger_than_request"\} [1-9]/);
});

test('events larger than the datagram limit arrive truncated, without their text', async (t) => {
  const server = await startServer(t, { udpMaxDatagram: 600 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const u = await udpClient(server);
  t.after(() => u.close());
  const sub = { type: 'sub', room: 'r', token: ada.token };
  u.send(sub);
  const { cookie } = await u.next((f) => f.type === 'challenge');
  u.send({ ...sub, cookie });
  await u.next((f) => f.type === 'subbed');
  await ada.post('/v1/rooms/r/messages', { text: 'y'.repeat(2000) });
  const m = await u.next((f) => f.type === 'msg');
  assert.deepEqual([m.seq, m.truncated, m.text], [1, true, undefined]);
});

test('a subscription lapses after its lease unless renewed', async (t) => {
  const server = await startServer(t, { udpLease: 1000 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const u = await udpClient(server);
  t.after(() => u.close());
  const sub = { type: 'sub', room: 'r', token: ada.token };
  u.send(sub);
  const { cookie } = await u.next((f) => f.type === 'challenge');
  u.send({ ...sub, cookie });
  await u.next((f) => f.type === 'subbed');
  assert.equal(server.udp.peers().length, 1);
  await new Promise((r) => setTimeout(r, 1800));
  assert.equal(server.udp.peers().length, 0, 'lapsed');
  await ada.post('/v1/rooms/r/messages', { text: 'after the lease' });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!u.frames.some((f) => f.type === 'msg'));
});

test('cookies are bound to the address and port and expire', () => {
  const jar = new CookieJar(1000);
  const c = jar.issue('127.0.0.1', 5000, 10_000);
  assert.ok(jar.check(c, '127.0.0.1', 5000, 10_500));
  assert.ok(jar.check(c, '127.0.0.1', 5000, 11_500), 'the next window still accepts it');
  assert.ok(!jar.check(c, '127.0.0.1', 5000, 12_500), 'then it expires');
  assert.ok(!jar.check(c, '127.0.0.1', 5001, 10_500), 'another port');
  assert.ok(!jar.check(c, '127.0.0.2', 5000, 10_500), 'another address');
  assert.ok(!jar.check('x'.repeat(22), '127.0.0.1', 5000, 10_500));
  assert.ok(!jar.check(undefined, '127.0.0.1', 5000, 10_500));
});

test('datagrams beyond the per-source rate are dropped and counted; --rate-limits off lifts it', async (t) => {
  const limited = await startServer(t, { rateLimits: true, udpPerSecond: 5 });
  const u = await udpClient(limited);
  t.after(() => u.close());
  for (let i = 0; i < 40; i++) u.send({ type: 'ping', ref: i });
  await new Promise((r) => setTimeout(r, 300));
  const pongs = u.frames.filter((f) => f.type === 'pong').length;
  assert.ok(pongs >= 5 && pongs <= 12, `${pongs} of 40 answered (burst 10)`);
  assert.match(
    String((await limited.api.get('/metrics')).body),
    /porthouse_udp_dropped_total\{reason="rate_limited"\} [1-9]/,
  );
  const open = await startServer(t, { rateLimits: false, udpPerSecond: 5 });
  const v = await udpClient(open);
  t.after(() => v.close());
  for (let i = 0; i < 40; i++) v.send({ type: 'ping', ref: i });
  await v.next((f) => f.type === 'pong' && v.frames.filter((x) => x.type === 'pong').length === 40);
});
