// The bounded form of `npm run proof:hostile`: hostile clients against a real server while a
// legitimate client keeps using it. Every attacking socket is closed by the server's own
// deadlines, the legitimate client is never refused, file descriptors come back to where they
// were, and the UDP door never sends an address more bytes than it received from it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServerMetrics } from '../../proof/lib/serve-process.js';
import {
  type HostileOptions,
  HostileServer,
  slowHeaders,
  udpFlood,
  unauthenticatedTcp,
} from '../../proof/lib/hostile-run.js';

const options: HostileOptions = {
  connections: 400,
  udpSources: 10,
  udpPerSource: 200,
  udpSeconds: 1,
  headersTimeout: 1000,
  authTimeout: 1000,
  perAddress: 100,
};

/**
 * The cap let about perAddress of the attack in and refused the rest at once. Loose bounds: a
 * few of 127.0.0.1's places are taken by set-up connections, and on a slow machine some of the
 * first attackers may hit their deadline (and free a place) before the last one arrives.
 */
/** Nothing the attack made outlives it: handles, timers and connections back to before. */
function assertNothingLeft(r: { resources: { before: ServerMetrics; after: ServerMetrics } }): void {
  const { before, after } = r.resources;
  assert.ok(after.handles <= before.handles + 2, `handles ${before.handles} → ${after.handles}`);
  assert.ok(after.timers <= before.timers, `timers ${before.timers} → ${after.timers}`);
  assert.ok(
    after.connections <= before.connections,
    `connections ${before.connections} → ${after.connections}`,
  );
}

function assertCapEngaged(r: { opened: number; refused: number }): void {
  const over = r.opened - options.perAddress;
  assert.ok(
    r.refused >= over / 2 && r.refused <= over + 10,
    `${r.refused} of ${r.opened} refused by the cap`,
  );
}

describe('hostile network clients', () => {
  const server = new HostileServer();
  let token: string;
  before(async () => {
    await server.start(options);
    token = await server.account();
  });
  after(() => server.stop());

  for (const upgrade of [false, true])
    it(`${upgrade ? 'WebSocket upgrades that never finish' : 'slowloris'}: those past the per-address cap refused at once, the rest closed at headersTimeout, the legitimate client served throughout`, async (t) => {
      const r = await slowHeaders(server, token, options, upgrade);
      t.diagnostic(
        `legit: ${JSON.stringify(r.legit)}; refused ${r.refused}; fds ${r.fds.join(' → ')}; last closed after ${r.longestMs} ms`,
      );
      assert.equal(r.closedByServer, r.opened, 'the server closed every one');
      assertCapEngaged(r);
      assertNothingLeft(r);
      assertNothingLeft(r);
      assert.ok(r.legit.requests > 0);
      assert.equal(r.legit.failed, 0, 'no legitimate request failed');
      assert.ok(r.fds[2] <= r.fds[0] + 2, 'descriptors back to where they were');
    });

  it('TCP connections that never authenticate: those past the cap refused at once, the rest closed at the auth deadline, an authenticated client served throughout', async (t) => {
    const r = await unauthenticatedTcp(server, token, options);
    t.diagnostic(`legit: ${JSON.stringify(r.legit)}; refused ${r.refused}; fds ${r.fds.join(' → ')}`);
    assert.equal(r.closedByServer, r.opened);
    assertCapEngaged(r);
    assertNothingLeft(r);
    assert.equal(r.legit.failed, 0);
    assert.ok(r.fds[2] <= r.fds[0] + 2);
  });

  it('a UDP flood of subs from many addresses: at most a byte out per byte in for any of them; the legitimate sender acked', async (t) => {
    const r = await udpFlood(server, token, options);
    t.diagnostic(JSON.stringify(r));
    assert.ok(r.bytesIn > 0);
    assert.ok(r.worstRatio <= 1, `worst source got ${r.worstRatio} bytes per byte sent`);
    assert.ok(r.legit.requests > 0);
    assert.equal(r.legit.failed, 0, 'every legitimate pub acknowledged (after retries at most)');
    assertNothingLeft(r);
  });
});
