// The fuzzers of `npm run proof:fuzz`, at full size: 10,000 cases on each door (HTTP routes and
// raw requests, WebSocket frames, TCP lines split anywhere, UDP datagrams, IRC lines). No crash, no
// unhandled rejection, no 5xx or `internal`, no connection left without an answer; memory,
// handles and the server's tables back to the baseline afterwards; every door still serves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from '../../proof/lib/fuzz-run.js';
import { judgeFuzz } from '../../proof/lib/fuzz-verdict.js';

test('10,000 hostile cases per door: never a crash, a 5xx or a stuck connection; memory and handles back to baseline', {
  timeout: 300_000,
}, async (t) => {
  const report = await runFuzz({ cases: 10_000, seed: 20261126, lanes: 4, deadlineMs: 10_000 });
  for (const d of report.doors)
    t.diagnostic(
      `${d.door}: ${d.cases} cases, answered ${d.answered}, closed ${d.closed}, stuck ${d.stuck}, internal ${d.internal}; ${d.notes.join('; ')}`,
    );
  t.diagnostic(
    `heap ${report.baseline.heapUsed} → ${report.after.heapUsed}; server ${JSON.stringify(report.after.server)}`,
  );
  assert.deepEqual(judgeFuzz(report), []);
  for (const d of report.doors) {
    assert.ok(d.cases >= 10_000, `${d.door}: ${d.cases} cases`);
    // The cases reached the parsers and validators, not just the socket.
    assert.ok(Object.keys(d.codes).length >= 4, `${d.door}: codes ${JSON.stringify(d.codes)}`);
  }
  const tcp = report.doors.find((d) => d.door === 'tcp')!;
  assert.match(tcp.notes.join(), /(\d+) multi-byte pubs split across writes: \1 stored intact/);
});
