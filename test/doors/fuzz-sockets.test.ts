// Random input on the raw socket doors: thousands of random TCP lines and UDP datagrams. The
// server never crashes, never answers a datagram with more bytes than it carried, and keeps
// serving a bystander throughout.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { startServer, userApi } from '../support/server.js';

const junk = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.json({ maxDepth: 3 }),
  fc
    .record(
      {
        type: fc.constantFrom('auth', 'sub', 'unsub', 'pub', 'typing', 'ping', 'challenge', ''),
        room: fc.oneof(fc.constantFrom('fuzz', 'nowhere', ''), fc.string({ maxLength: 70 })),
        text: fc.oneof(fc.string({ maxLength: 50 }), fc.integer()),
        since: fc.oneof(fc.integer(), fc.string()),
        ref: fc.oneof(fc.string({ maxLength: 140 }), fc.integer()),
        token: fc.string({ maxLength: 40 }),
        cookie: fc.string({ maxLength: 30 }),
      },
      { requiredKeys: ['type'] },
    )
    .map((f) => JSON.stringify(f)),
);

test('2,000 random TCP lines and 2,000 random UDP datagrams: no crash, no amplification, a bystander is served', {
  timeout: 120_000,
}, async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'fuzz' });
  const tcpDoor = server.addresses().find((a) => a.door === 'tcp')!;
  const udpDoor = server.addresses().find((a) => a.door === 'udp')!;
  const samples = fc.sample(junk, { numRuns: 2000, seed: 7 });

  // TCP: an authenticated connection sends every sample as a line.
  const tcp = connect(tcpDoor.port, tcpDoor.host);
  t.after(() => tcp.destroy());
  let tcpIn = '';
  tcp.setEncoding('utf8');
  tcp.on('data', (d: string) => {
    tcpIn += d;
  });
  tcp.write(`${JSON.stringify({ type: 'auth', token: ada.token })}\n`);
  for (const s of samples) tcp.write(`${s.replace(/[\r\n]/g, ' ')}\n`);
  tcp.write(`${JSON.stringify({ type: 'ping', ref: 'tcp-end' })}\n`);

  // UDP: every sample as a datagram; count what comes back.
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  t.after(() => udp.close());
  let sent = 0;
  let received = 0;
  let biggestReplyRatio = 0;
  let matched = 0;
  const sizes = new Map<string, number>();
  udp.on('message', (m) => {
    received += m.length;
    const ref = (JSON.parse(String(m)) as { ref?: unknown }).ref;
    const asked = typeof ref === 'string' ? sizes.get(JSON.stringify(ref)) : undefined;
    if (asked) {
      matched++;
      biggestReplyRatio = Math.max(biggestReplyRatio, m.length / asked);
    }
  });
  for (const [i, s] of samples.entries()) {
    // JSON objects get a unique ref, so each reply can be matched with its own request.
    let text = s;
    try {
      const value = JSON.parse(s) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value))
        text = JSON.stringify({ ...value, ref: `f${i}` });
    } catch {}
    const bytes = Buffer.from(text);
    if (bytes.length === 0) continue;
    sent += bytes.length;
    if (text !== s) sizes.set(`"f${i}"`, bytes.length);
    udp.send(bytes, udpDoor.port, udpDoor.host);
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }

  const deadline = Date.now() + 20_000;
  while (!tcpIn.includes('"ref":"tcp-end"') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(tcpIn.includes('"ref":"tcp-end"'), 'the fuzzed TCP connection still answers');
  assert.ok(!tcpIn.includes('"code":"internal"'), 'no internal errors on TCP');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(received <= sent, `UDP: sent ${sent} bytes, got ${received}`);
  assert.ok(matched > 100, `${matched} replies matched to their requests`);
  assert.ok(biggestReplyRatio <= 1, `a reply was ${biggestReplyRatio.toFixed(2)}× its request`);
  const bystander = await ada.get('/healthz');
  assert.equal(bystander.status, 200);
  assert.equal((await ada.post('/v1/rooms/fuzz/messages', { text: 'still here' })).status, 201);
});
