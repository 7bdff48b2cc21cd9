// The bounded form of `npm run proof:soak`: 20 seconds of churn (connect, subscribe with since,
// drop without a goodbye, again) on WebSocket, TCP and SSE. No client sees a gap, duplicate or
// reordering across its reconnects, and once they are all gone the server holds no more
// descriptors, handles, timers or connections than before. (The memory trend needs the long run.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from '../../proof/lib/soak-run.js';
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
