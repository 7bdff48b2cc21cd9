// The bounded form of `npm run proof:soak`: 20 seconds of churn (connect, subscribe with since,
// drop without a goodbye, again) on WebSocket, TCP and SSE. No client sees a gap, duplicate or
// reordering across its reconnects, and once they are all gone the server holds no more
// descriptors, handles, timers or connections than before. (The memory trend needs the long run.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak, trend } from '../../proof/lib/soak-run.js';
import { judgeSoak } from '../../proof/lib/soak-verdict.js';

test('20 s of churn: no gap or duplicate across reconnects; descriptors, handles and timers back to idle', {
  timeout: 120_000,
}, async (t) => {
  const r = await runSoak({
    seconds: 20,
    clients: 60,
    rooms: 6,
    rate: 20,
    stayMs: [300, 2000],
    sampleEveryMs: 2000,
    warmupSeconds: 5,
  });
  t.diagnostic(
    `${r.connects} connects, ${r.published} published, ${r.received} received; idle ${JSON.stringify(r.idle)}`,
  );
  assert.deepEqual(judgeSoak(r, { trend: false }), []);
  assert.ok(r.connects > 200, `${r.connects} connects`);
  assert.ok(r.published > 200, `${r.published} published`);
});

test('the memory trend follows the floor: a sawtooth over a flat floor is no growth, a rising floor is', () => {
  const at = (t: number, heap: number) => ({
    t,
    heap,
    rss: heap,
    fds: 0,
    handles: 0,
    timers: 0,
    connections: 0,
  });
  const MB = 1_048_576;
  // 20 minutes, a sample every 5 s: garbage piles up 0–40 MB over each minute, then is collected.
  const flat = Array.from({ length: 240 }, (_, i) => at(i * 5, 30 * MB + ((i % 12) / 11) * 40 * MB));
  // The same, but with the teeth growing towards the end, as they do when a collection is late.
  const lateTeeth = flat.map((s, i) => (i > 228 ? { ...s, heap: s.heap + 30 * MB } : s));
  const leaking = flat.map((s) => ({ ...s, heap: s.heap + (s.t / 60) * 0.5 * MB }));
  assert.ok(Math.abs(trend(flat, 'heap', 120).growth) < 0.1 * MB);
  assert.ok(Math.abs(trend(lateTeeth, 'heap', 120).growth) < 0.1 * MB, 'tall teeth are not a leak');
  const growth = trend(leaking, 'heap', 120).growth;
  assert.ok(growth > 8 * MB && growth < 10 * MB, `0.5 MB a minute over 18 minutes: ${growth / MB} MB`);
});
