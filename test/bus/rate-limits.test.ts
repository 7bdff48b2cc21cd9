// Rate limits behind the Limiter seam: this process's buckets, or Redis cells every node shares.
// One contract for both; then what only sharing gives: two nodes spend one allowance, and a
// node that loses Redis keeps limiting on its own.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisRateLimiter } from '../../src/bus/redis-rate-limiter.js';
import { type Limiter, type RateLimit, RateLimiter } from '../../src/core/rate-limiter.js';
import { REDIS_URL, redisMissing } from '../support/services.js';

const skipRedis = await redisMissing();
const connections: Redis[] = [];
after(() => {
  for (const r of connections) r.disconnect();
});
const connection = () => {
  const r = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
  connections.push(r);
  return r;
};

async function redisLimiter(limit: RateLimit, prefix = `porthouse:test:${randomUUID()}:`) {
  const redis = connection();
  await redis.connect();
  return new RedisRateLimiter(redis, prefix, limit);
}

const implementations: {
  name: string;
  skip: string | undefined;
  make: (l: RateLimit) => Promise<Limiter>;
}[] = [
  { name: 'local buckets', skip: undefined, make: async (l) => new RateLimiter(l) },
  { name: 'Redis cells', skip: skipRedis, make: (l) => redisLimiter(l) },
];

for (const impl of implementations) {
  describe(`rate limit contract: ${impl.name}`, { skip: impl.skip }, () => {
    test('allows the burst at once, then refuses with the seconds to wait, and refills at the rate', async () => {
      const limiter = await impl.make({ ratePerSecond: 20, burst: 5 });
      const take = async () => limiter.take('u:ada', Date.now());
      for (let i = 0; i < 5; i++) assert.equal((await take()).ok, true, `request ${i + 1} of the burst`);
      const refused = await take();
      assert.equal(refused.ok, false);
      assert.equal(refused.retryAfter, 1, 'whole seconds, at least one');
      assert.equal((await limiter.take('u:bob', Date.now())).ok, true, 'another key has its own allowance');
      await new Promise((r) => setTimeout(r, 120)); // 20/s: two tokens back
      assert.equal((await take()).ok, true, 'refilled');
    });
  });
}

describe('rate limits shared through Redis', { skip: skipRedis }, () => {
  test('two nodes spend one allowance: a client cannot multiply it by spreading over nodes', async () => {
    const prefix = `porthouse:test:${randomUUID()}:`;
    const limit = { ratePerSecond: 0.01, burst: 6 };
    const [a, b] = [await redisLimiter(limit, prefix), await redisLimiter(limit, prefix)];
    let allowed = 0;
    for (let i = 0; i < 10; i++) if ((await (i % 2 ? a : b).take('u:ada', Date.now())).ok) allowed++;
    assert.equal(allowed, 6);
  });

  test('while Redis is away a node keeps limiting with its own buckets', async () => {
    const redis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    connections.push(redis);
    const limiter = new RedisRateLimiter(redis, 'x:', { ratePerSecond: 0.01, burst: 3 });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await limiter.take('u:ada', Date.now())).ok);
    assert.deepEqual(answers, [true, true, true, false, false]);
  });
});
