// Login time does not say whether a user exists: a wrong password for a real user and any
// password for a name nobody has both cost one scrypt at the configured work factor. Measured
// over HTTP, interleaved, medians compared; the bound is loose because the machine is noisy, and
// still far from what a missing dummy hash would give (a fraction of a millisecond against tens).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../support/server.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('a wrong password and an unknown user take the same time to refuse, both 401 bad_credentials', async (t) => {
  // 2^14: a real scrypt (16 MiB, tens of ms) at a cost a test can repeat 40 times.
  const server = await startServer(t, { scryptCost: 14 });
  await userApi(server, 'ada');
  const attempt = async (name: string) => {
    const t0 = performance.now();
    const res = await server.api.post('/v1/tokens', { name, password: 'not the password' });
    const ms = performance.now() - t0;
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'bad_credentials');
    return ms;
  };
  await attempt('ada');
  await attempt('nobody');
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 20; i++) {
    known.push(await attempt('ada'));
    unknown.push(await attempt(`nobody${i}`));
  }
  const k = median(known);
  const u = median(unknown);
  t.diagnostic(`median: wrong password ${k.toFixed(1)} ms, unknown user ${u.toFixed(1)} ms`);
  assert.ok(k > 5, `the wrong password cost a real hash (${k.toFixed(1)} ms)`);
  assert.ok(u / k > 0.6 && u / k < 1.6, `unknown ${u.toFixed(1)} ms vs known ${k.toFixed(1)} ms`);
});
