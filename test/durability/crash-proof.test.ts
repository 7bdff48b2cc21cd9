// The bounded crash proof of `npm run proof:crash`: three SIGKILLs during traffic on every door,
// on SQLite and on PostgreSQL. Every acknowledged message is in the history once, the history
// is 1..N, and every WebSocket, TCP and SSE subscriber received exactly that.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashProof } from '../../proof/lib/crash-run.js';
import { POSTGRES_URL, postgresMissing } from '../support/services.js';

test('three kills -9 during traffic on SQLite: nothing acknowledged lost or doubled, every subscriber has the history', async (t) => {
  const report = await runCrashProof({ kills: 3, log: (l) => t.diagnostic(l) });
  t.diagnostic(`acknowledged ${JSON.stringify(report.acked)}, history ${report.stored}`);
  assert.deepEqual(report.problems, []);
  for (const door of ['http', 'ws', 'tcp', 'udp'])
    assert.ok(report.acked[door]! > 0, `${door} publishers got acks`);
  assert.equal(report.subscribers.length, 3);
});

test('the same on PostgreSQL', { skip: await postgresMissing() }, async (t) => {
  const report = await runCrashProof({ kills: 3, postgres: POSTGRES_URL, log: (l) => t.diagnostic(l) });
  t.diagnostic(`acknowledged ${JSON.stringify(report.acked)}, history ${report.stored}`);
  assert.deepEqual(report.problems, []);
  for (const door of ['http', 'ws', 'tcp', 'udp'])
    assert.ok(report.acked[door]! > 0, `${door} publishers got acks`);
});

test('three graceful stops (SIGTERM) during traffic: exit 0 within 10 s, last words on every door, nothing lost', async (t) => {
  const report = await runCrashProof({ kills: 3, signal: 'SIGTERM', log: (l) => t.diagnostic(l) });
  assert.deepEqual(report.problems, []);
  assert.deepEqual(
    report.stops.map((s) => s.exit),
    [0, 0, 0],
  );
  for (const s of report.subscribers)
    assert.ok(
      s.goodbyes >= 1,
      `${s.name} was told the server was going (1001 or unavailable): ${s.goodbyes}`,
    );
});
