// The bounded form of `npm run proof:load`: a few hundred WebSocket, TCP, SSE and IRC subscribers
// over loopback source addresses, a steady publish rate, and every subscriber gets every message
// of its room once, in order; descriptors come back when the clients leave.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLoad } from '../../proof/lib/load-run.js';

test('450 subscribers on four doors under a steady publish rate: every message to every subscriber, once, in order', {
  timeout: 180_000,
}, async (t) => {
  const r = await runLoad({
    ws: 300,
    tcp: 50,
    sse: 50,
    irc: 50,
    rooms: 10,
    users: 10,
    addresses: 5,
    rate: 40,
    seconds: 5,
    publishers: 4,
  });
  const p = r.publish;
  t.diagnostic(
    `${p.delivered}/${p.expected} deliveries, p50 ${p.latencyMs.p50.toFixed(1)} ms, p99 ${p.latencyMs.p99.toFixed(1)} ms; RSS per idle connection ${((r.memory.irc.rss - r.memory.base.rss) / 450 / 1024).toFixed(1)} KB`,
  );
  assert.equal(p.acked, p.sent, 'every pub acknowledged');
  assert.ok(p.sent >= 150);
  assert.equal(p.delivered, p.expected);
  assert.deepEqual([p.missing, p.duplicates, p.outOfOrder], [0, 0, 0]);
  assert.ok(r.fdsAfterClose.after <= r.fdsAfterClose.base + 2, `fds ${JSON.stringify(r.fdsAfterClose)}`);
});
