// GET /v1/sockets and `porthouse sockets`: every live socket of every door as a five-tuple,
// admins only.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { run } from '../../support/cli.js';
import { startServer, userApi } from '../../support/server.js';
import { openSse } from '../../support/sse.js';
import { connectWs } from '../../support/ws.js';

test('lists the listening sockets and each connection with its door, user and rooms; admins only', async (t) => {
  const server = await startServer(t);
  const admin = await userApi(server, 'root', { admin: true });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const ws = await connectWs(server.url, { token: ada.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'r' });
  await ws.next((f) => f.type === 'subbed');
  const sse = await openSse(`${server.url}/v1/rooms/r/events`, { authorization: `Bearer ${ada.token}` });
  t.after(() => sse.close());
  await sse.next((e) => e.event === 'subbed');
  const tcpDoor = server.addresses().find((a) => a.door === 'tcp')!;
  const tcp = connect(tcpDoor.port, tcpDoor.host);
  t.after(() => tcp.destroy());
  await new Promise((r) => tcp.once('connect', r));
  tcp.write(`${JSON.stringify({ type: 'auth', token: ada.token })}\n`);
  await new Promise((r) => tcp.once('data', r));

  assert.equal((await ada.get('/v1/sockets')).status, 403);
  assert.equal((await server.api.get('/v1/sockets')).status, 401);
  const res = await admin.get('/v1/sockets');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const list = res.body.sockets as any[];
  const httpPort = Number(new URL(server.url).port);
  assert.ok(list.some((s) => s.state === 'listening' && s.door === 'http' && s.localPort === httpPort));
  assert.ok(list.some((s) => s.state === 'listening' && s.door === 'tcp' && s.localPort === tcpDoor.port));
  const byDoor = (door: string) => list.filter((s) => s.state === 'connected' && s.door === door);
  assert.equal(byDoor('ws').length, 1);
  assert.deepEqual([byDoor('ws')[0].user, byDoor('ws')[0].rooms], ['ada', ['r']]);
  assert.deepEqual([byDoor('sse')[0].user, byDoor('sse')[0].rooms], ['ada', ['r']]);
  assert.equal(byDoor('tcp')[0].user, 'ada');
  assert.equal(byDoor('tcp')[0].remotePort, tcp.localPort, 'the five-tuple is the client’s own');
  for (const s of list.filter((x) => x.state === 'connected')) {
    assert.equal(s.protocol, 'tcp');
    assert.equal(typeof s.remoteAddress, 'string');
    assert.ok(s.remotePort > 0 && s.localPort > 0);
  }
  // The upgraded and streaming connections are not listed a second time as plain HTTP.
  const remotes = list
    .filter((s) => s.state === 'connected')
    .map((s) => `${s.remoteAddress}:${s.remotePort}`);
  assert.equal(new Set(remotes).size, remotes.length);

  const cli = await run(['sockets', '--server', server.url], undefined, { PORTHOUSE_TOKEN: admin.token! });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^PROTO\s+DOOR\s+LOCAL\s+REMOTE\s+USER\s+ROOMS\s+IN\s+OUT\s+RTT-MS\s+SEND-Q$/m);
  assert.match(cli.stdout, /^TCP\s+ws\s+\S+\s+\S+\s+ada\s+r\s+\d+\s+\d+\s+\d+(\.\d+)?\s+\d+$/m);
  assert.match(cli.stdout, /^TCP\s+tcp\s+\S+\s+\(listening\)/m);
});

test("each connection carries the kernel's TCP_INFO, plausible for loopback; a reader that stops shows its queue growing", async (t) => {
  const server = await startServer(t, { kernelStateTtl: 0, sendBufferLimit: 64 * 1024 * 1024 });
  const admin = await userApi(server, 'root', { admin: true });
  await admin.post('/v1/rooms', { name: 'r' });
  const tcpDoor = server.addresses().find((a) => a.door === 'tcp')!;
  const reader = connect(tcpDoor.port, tcpDoor.host);
  t.after(() => reader.destroy());
  await new Promise((r) => reader.once('connect', r));
  reader.write(
    `${JSON.stringify({ type: 'auth', token: admin.token })}\n${JSON.stringify({ type: 'sub', room: 'r' })}\n`,
  );
  await new Promise((r) => reader.once('data', r));
  const mine = async () => {
    const list = (await admin.get('/v1/sockets')).body.sockets as any[];
    return list.find((s) => s.door === 'tcp' && s.state === 'connected' && s.remotePort === reader.localPort);
  };
  const before = (await mine()).transport;
  assert.ok(before.rttMs > 0 && before.rttMs < 200, `loopback RTT ${before.rttMs} ms`);
  assert.ok(before.rttVarMs >= 0);
  assert.ok(Number.isInteger(before.cwnd) && before.cwnd >= 1);
  assert.equal(before.retransmits, 0);
  assert.deepEqual([before.sendQueue, before.receiveQueue], [0, 0]);

  // The reader stops reading; 4 MB of messages pile up in the kernel's buffers.
  reader.pause();
  const text = 'x'.repeat(3900);
  for (let i = 0; i < 1000; i++)
    await server.services.messages.post({ name: 'root', admin: true }, 'r', `${i} ${text}`, 'http');
  let after: any;
  for (let i = 0; i < 50; i++) {
    after = (await mine()).transport;
    if (after.sendQueue > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(after.sendQueue > 100_000, `send queue ${after.sendQueue} bytes`);
  assert.ok(after.bytesInFlight > 0 || after.notSent > 0, JSON.stringify(after));

  // The UDP door's socket: its queues and drops.
  const list = (await admin.get('/v1/sockets')).body.sockets as any[];
  const udp = list.find((s) => s.protocol === 'udp' && s.state === 'listening');
  assert.deepEqual(Object.keys(udp.transport).sort(), ['drops', 'receiveQueue', 'sendQueue']);
  assert.ok(udp.transport.drops >= 0);
  assert.ok(
    !('transport' in list.find((s) => s.state === 'listening' && s.door === 'http')),
    'none on a listening TCP socket',
  );
});
