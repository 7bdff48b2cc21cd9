// One client address may hold at most maxConnectionsPerAddress connections across HTTP (with its
// WebSocket and SSE) and TCP. One more is refused on accept with a stable code, other addresses
// are served meanwhile, and a closed connection frees its place.
import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import { describe, test } from 'node:test';
import { Agent, fetch } from 'undici';
import { addressKey } from '../../src/doors/address-cap.js';
import { startServer } from '../support/server.js';

describe('addressKey', () => {
  test('counts IPv4 and IPv4-mapped IPv6 per address, other IPv6 per /64', () => {
    assert.equal(addressKey('127.0.0.7'), '127.0.0.7');
    assert.equal(addressKey('::ffff:127.0.0.7'), '127.0.0.7');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:0:0:9'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});

const open = (port: number, localAddress: string) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });

/** Everything the server sends until it closes the connection. */
const untilClosed = (s: Socket) =>
  new Promise<string>((resolve) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
    });
    s.on('error', () => {});
    s.on('close', () => resolve(text));
  });

test('the connection past the cap is refused on every door with too_many_connections; other addresses are served; closing frees a place', async (t) => {
  const server = await startServer(t, { maxConnectionsPerAddress: 3 });
  const tcpPort = server.addresses().find((a) => a.door === 'tcp')!.port;
  const httpPort = Number(new URL(server.url).port);
  const held: Socket[] = [];
  t.after(() => {
    for (const s of held) s.destroy();
  });
  console.log('ts', Date.now());
  // Three connections from 127.0.0.9: two on HTTP, one on TCP (the count is shared).
  held.push(
    await open(httpPort, '127.0.0.9'),
    await open(httpPort, '127.0.0.9'),
    await open(tcpPort, '127.0.0.9'),
  );

  // A fourth on TCP: one error line, then the end.
  const tcpAnswer = await untilClosed(await open(tcpPort, '127.0.0.9'));
  const frame = JSON.parse(tcpAnswer.trim()) as { type: string; code: string };
  assert.deepEqual([frame.type, frame.code], ['error', 'too_many_connections']);

  console.log('t0', Date.now());
  // A fourth on HTTP: 429 problem+json, whatever the request was.
  const httpRefused = await open(httpPort, '127.0.0.9');
  const answer = untilClosed(httpRefused);
  httpRefused.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const raw = await answer;
  assert.match(raw, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
  assert.match(raw, /content-type: application\/problem\+json/i);
  assert.equal(
    (JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { code: string }).code,
    'too_many_connections',
  );

  // A WebSocket upgrade from the same address is refused the same way.
  const ws = await open(httpPort, '127.0.0.9');
  const wsAnswer = untilClosed(ws);
  ws.write(
    'GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  assert.match(await wsAnswer, /^HTTP\/1\.1 429 /);

  console.log('t1', Date.now());
  // Another address is served meanwhile.
  const other = new Agent({ localAddress: '127.0.0.10' });
  t.after(() => other.close());
  const res = await fetch(`${server.url}/healthz`, { dispatcher: other });
  assert.equal(res.status, 200);
  await res.arrayBuffer();

  console.log('t2', Date.now());
  // Closing one frees its place.
  const closed = new Promise((r) => held[0]!.once('close', r));
  held[0]!.destroy();
  await closed;
  await new Promise((r) => setTimeout(r, 50));
  const again = new Agent({ localAddress: '127.0.0.9' });
  t.after(() => again.close());
  const ok = await fetch(`${server.url}/healthz`, { dispatcher: again });
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();

  console.log('t3', Date.now());
  const metrics = await (await fetch(`${server.url}/metrics`, { dispatcher: other })).text();
  assert.match(metrics, /porthouse_connections_refused_total\{door="tcp"\} 1\b/);
  assert.match(metrics, /porthouse_connections_refused_total\{door="http"\} 2\b/);
  console.log('te', Date.now());
});

test('0 turns the cap off: twenty connections from one address are all served', async (t) => {
  const server = await startServer(t, { maxConnectionsPerAddress: 0 });
  const tcpPort = server.addresses().find((a) => a.door === 'tcp')!.port;
  const held = await Promise.all(Array.from({ length: 20 }, () => open(tcpPort, '127.0.0.11')));
  t.after(() => {
    for (const s of held) s.destroy();
  });
  const answers = await Promise.all(
    held.map(
      (s) =>
        new Promise<string>((resolve) => {
          s.setEncoding('utf8');
          s.once('data', (d: string) => resolve(d));
          s.write('{"type":"ping","ref":"p"}\n');
        }),
    ),
  );
  for (const a of answers) assert.equal((JSON.parse(a) as { type: string }).type, 'pong');
});
