// Cluster-wide rate limits: with Redis, one user's requests count against one allowance on
// whichever node they land, and so do the login attempts of one address.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { startServer, userApi } from '../support/server.js';
import { REDIS_URL, postgresMissing, redisMissing, throwawayDatabase } from '../support/services.js';

const skip = (await postgresMissing()) ?? (await redisMissing());

describe('rate limits across nodes', { skip }, () => {
  const database = throwawayDatabase('limits');

  test("one user's requests spread over two nodes spend one allowance; another user is unaffected", async (t) => {
    const redisChannel = `porthouse:test:${randomUUID()}`;
    const options = {
      postgres: database(),
      redis: REDIS_URL,
      redisChannel,
      rateLimits: true,
      rateRequestsPerSecond: 1,
      rateRequestsBurst: 8,
      rateLoginsPerMinute: 1000,
    };
    const nodes = [await startServer(t, options), await startServer(t, options)];
    const ada = await userApi(nodes[0]!, 'ada');
    const bob = await userApi(nodes[1]!, 'bob');
    // ada's client is bound to node 0; every other request of hers goes to node 1.
    const adaOn1 = nodes[1]!.api.as(ada.token!);
    // Until a node has verified a token once, its requests spend the address's allowance; get
    // that out of the way so every counted request spends ada's.
    await ada.get('/v1/rooms');
    await adaOn1.get('/v1/rooms');
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) statuses.push((await (i % 2 ? ada : adaOn1).get('/v1/rooms')).status);
    const ok = statuses.filter((s) => s === 200).length;
    // Per-node buckets would have let all 16 through (8 on each node); a shared one lets the
    // burst through, plus what refills at 1/s meanwhile.
    assert.ok(ok >= 8 && ok <= 9, `one allowance for both nodes: ${statuses.join(' ')}`);
    assert.deepEqual(statuses.slice(ok), Array(16 - ok).fill(429), 'refused once it is spent');
    const refused = await adaOn1.get('/v1/rooms');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After is set');
    assert.equal((await bob.get('/v1/rooms')).status, 200, 'bob has his own allowance');
  });
});
