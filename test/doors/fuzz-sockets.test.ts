// UDP amplification under random input, reply by reply: 2,000 hostile datagrams, each JSON
// object given its own ref so every answer can be matched with the datagram it answers, and
// none is larger. (test/doors/fuzz.test.ts fuzzes every door at full size.)
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import fc from 'fast-check';
import { hostileJson } from '../../proof/lib/fuzz-inputs.js';
import { startServer, userApi } from '../support/server.js';

test('2,000 hostile UDP datagrams: no answer larger than the datagram it answers, and the server still serves', {
  timeout: 120_000,
}, async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'fuzz' });
  const udpDoor = server.addresses().find((a) => a.door === 'udp')!;
  const samples = fc.sample(hostileJson, { numRuns: 2000, seed: 7 });

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
    const bytes = Buffer.from(text).subarray(0, 65_000);
    if (bytes.length === 0) continue;
    sent += bytes.length;
    if (text !== s) sizes.set(`"f${i}"`, bytes.length);
    udp.send(bytes, udpDoor.port, udpDoor.host);
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }

  await new Promise((r) => setTimeout(r, 300));
  assert.ok(received <= sent, `UDP: sent ${sent} bytes, got ${received}`);
  assert.ok(matched > 100, `${matched} replies matched to their requests`);
  assert.ok(biggestReplyRatio <= 1, `a reply was ${biggestReplyRatio.toFixed(2)}× its request`);
  const bystander = await ada.get('/healthz');
  assert.equal(bystander.status, 200);
  assert.equal((await ada.post('/v1/rooms/fuzz/messages', { text: 'still here' })).status, 201);
});
