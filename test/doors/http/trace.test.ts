// GET /v1/rooms/{room}/messages/{seq}/trace: a message's journey on this node, checked against
// what raw clients actually put on the wire at each door, its stages in order, and its fan-out
// per door as the subscribers received it.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { test } from 'node:test';
import { type TestServer, startServer, userApi } from '../../support/server.js';
import { clientFrame, rawWs } from '../../support/raw-ws.js';
import { connectIrc, ircPort } from '../../support/irc.js';
import { connectTcp } from '../../support/tcp.js';
import { connectWs } from '../../support/ws.js';

const port = (server: TestServer, door: string) => server.addresses().find((a) => a.door === door)!.port;
const STAGES = ['received', 'decoded', 'stored', 'durable', 'acked', 'published'];

async function traceOf(api: Awaited<ReturnType<typeof userApi>>, room: string, seq: number) {
  for (let i = 0; i < 100; i++) {
    const r = await api.get(`/v1/rooms/${room}/messages/${seq}/trace`);
    if (r.status === 200 && r.body.fanout.every((f: any) => f.lastWriteMs !== null)) return r.body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no complete trace of ${room} #${seq}`);
}

test("each door's journey counts the bytes the client sent, framing included, and its stages in order", async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const sent: { door: string; bytes: number }[] = [];

  // REST: the exact request, written by hand.
  const body = JSON.stringify({ text: 'by rest' });
  const request =
    `POST /v1/rooms/r/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ada.token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  const http = connect(port(server, 'http'), '127.0.0.1');
  await new Promise((r) => http.once('connect', r));
  http.write(request);
  await new Promise((r) => http.once('data', r));
  http.destroy();
  sent.push({ door: 'http', bytes: Buffer.byteLength(request) });

  // WebSocket: one masked frame built by hand.
  const ws = await rawWs(server.url, ada.token);
  t.after(() => ws.destroy());
  const frame = clientFrame(JSON.stringify({ type: 'pub', room: 'r', text: 'by ws', ref: 1 }));
  ws.write(frame);
  sent.push({ door: 'ws', bytes: frame.length });
  await waitFor(ada, 2);

  // TCP: one line.
  const tcp = await connectTcp(port(server, 'tcp'));
  t.after(() => tcp.socket.destroy());
  tcp.send({ type: 'auth', token: ada.token });
  await tcp.next((f) => f.type === 'ready');
  const line = `${JSON.stringify({ type: 'pub', room: 'r', text: 'by tcp', ref: 2 })}\n`;
  tcp.send(line);
  await tcp.next((f) => f.type === 'ack');
  sent.push({ door: 'tcp', bytes: Buffer.byteLength(line) });

  // UDP: one datagram, plus the 8-byte UDP and 20-byte IPv4 headers in front of it.
  const udp = createSocket('udp4');
  t.after(() => udp.close());
  const datagram = Buffer.from(
    JSON.stringify({ type: 'pub', room: 'r', text: 'by udp', ref: 'u', token: ada.token }),
  );
  const acked = new Promise((r) => udp.once('message', r));
  udp.send(datagram, port(server, 'udp'), '127.0.0.1');
  await acked;
  sent.push({ door: 'udp', bytes: datagram.length + 8 + 20 });

  // IRC: one line with its CR LF.
  const irc = await connectIrc(ircPort(server));
  t.after(() => irc.socket.destroy());
  irc.send(`PASS ${ada.token}`, 'NICK ada', 'USER ada 0 * :Ada', 'JOIN #r');
  await irc.expect('366');
  const privmsg = 'PRIVMSG #r :by irc';
  irc.send(privmsg);
  sent.push({ door: 'irc', bytes: Buffer.byteLength(privmsg) + 2 });
  await waitFor(ada, 5);

  for (const [i, s] of sent.entries()) {
    const trace = await traceOf(ada, 'r', i + 1);
    assert.equal(trace.door, s.door);
    assert.equal(trace.wireBytes, s.bytes, `${s.door}: bytes on the wire`);
    assert.equal(typeof trace.framing, 'string');
    assert.deepEqual(
      trace.stages.map((x: any) => x.stage),
      STAGES,
      `${s.door}: stages`,
    );
    const ms = trace.stages.map((x: any) => x.ms);
    // REST's acknowledgement is its answer, sent after the message is published.
    if (s.door !== 'http')
      assert.deepEqual(
        ms,
        [...ms].sort((a, b) => a - b),
        `${s.door}: in time order`,
      );
    const at = (stage: string) => trace.stages.find((x: any) => x.stage === stage).ms;
    assert.ok(at('received') === 0 && at('stored') <= at('durable') && at('durable') <= at('published'));
  }
});

test('the fan-out per door: recipients, the bytes each was written, first and last write', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const subs = await Promise.all(
    [1, 2, 3].map(async () => {
      const ws = await connectWs(server.url, { token: ada.token! });
      ws.send({ type: 'sub', room: 'r' });
      await ws.next((f) => f.type === 'subbed');
      return ws;
    }),
  );
  t.after(() => {
    for (const s of subs) s.close();
  });
  const tcp = await connectTcp(port(server, 'tcp'));
  t.after(() => tcp.socket.destroy());
  tcp.send({ type: 'auth', token: ada.token });
  tcp.send({ type: 'sub', room: 'r' });
  await tcp.next((f) => f.type === 'subbed');
  const raw: Buffer[] = [];
  tcp.socket.on('data', (d: Buffer) => raw.push(Buffer.from(d)));

  await ada.post('/v1/rooms/r/messages', { text: 'to four' });
  const line = await tcp.next((f) => f.type === 'msg');
  const trace = await traceOf(ada, 'r', 1);
  const byDoor = Object.fromEntries(trace.fanout.map((f: any) => [f.door, f]));
  assert.equal(byDoor.ws.recipients, 3);
  assert.equal(byDoor.tcp.recipients, 1);
  const read = Buffer.concat(raw)
    .toString()
    .split('\n')
    .find((l) => l.startsWith('{"type":"msg"'))!;
  assert.equal(line.text, 'to four');
  assert.equal(
    byDoor.tcp.bytesPerRecipient,
    Buffer.byteLength(read) + 1,
    'the TCP line as read, with its newline',
  );
  // A server frame carries no mask: 2 header bytes, and 2 more for a payload of 126 to 65,535.
  const payload = Buffer.byteLength(read);
  assert.equal(byDoor.ws.bytesPerRecipient, payload + (payload < 126 ? 2 : 4));
  for (const f of trace.fanout) {
    assert.ok(f.queuedMs <= f.firstWriteMs && f.firstWriteMs <= f.lastWriteMs, JSON.stringify(f));
    assert.ok(f.queuedMs >= trace.stages.find((s: any) => s.stage === 'published').ms);
  }
});

test('journeys are for members and admins; older ones than the log keeps are journey_not_found', async (t) => {
  const server = await startServer(t, { traceMessages: 2 });
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  const root = await userApi(server, 'root', { admin: true });
  await ada.post('/v1/rooms', { name: 'r' });
  for (const text of ['a', 'b', 'c']) await ada.post('/v1/rooms/r/messages', { text });
  assert.equal((await bob.get('/v1/rooms/r/messages/3/trace')).status, 403);
  assert.equal((await root.get('/v1/rooms/r/messages/3/trace')).status, 200);
  const gone = await ada.get('/v1/rooms/r/messages/1/trace');
  assert.equal(gone.status, 404);
  assert.equal(gone.body.code, 'journey_not_found');
  assert.equal((await ada.get('/v1/rooms/r/messages/9/trace')).body.code, 'message_not_found');
  assert.equal((await ada.get('/v1/rooms/r/messages/3/trace')).headers.get('cache-control'), 'no-store');
  const off = await startServer(t, { traceMessages: 0 });
  const eve = await userApi(off, 'eve');
  await eve.post('/v1/rooms', { name: 'q' });
  await eve.post('/v1/rooms/q/messages', { text: 'x' });
  assert.equal(
    (await eve.get('/v1/rooms/q/messages/1/trace')).body.code,
    'journey_not_found',
    'off: none kept',
  );
});

async function waitFor(api: Awaited<ReturnType<typeof userApi>>, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await api.get('/v1/rooms/r/messages')).body.length >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`fewer than ${count} messages stored`);
}
