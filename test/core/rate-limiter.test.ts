import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../src/core/rate-limiter.js';

test('allows a burst, then refills at the rate, and says when to retry', () => {
  const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 });
  const t0 = 1_000_000;
  assert.ok(limiter.take('a', t0).ok);
  assert.ok(limiter.take('a', t0).ok);
  assert.ok(limiter.take('a', t0).ok);
  const refused = limiter.take('a', t0);
  assert.equal(refused.ok, false);
  assert.equal(refused.retryAfter, 1);
  assert.ok(limiter.take('b', t0).ok, 'keys are independent');
  assert.ok(limiter.take('a', t0 + 500).ok, 'half a second refills one token at 2/s');
  assert.equal(limiter.take('a', t0 + 500).ok, false);
});

test('a bucket never holds more than its burst', () => {
  const limiter = new RateLimiter({ ratePerSecond: 100, burst: 2 });
  limiter.take('a', 0);
  const later = 3_600_000;
  assert.ok(limiter.take('a', later).ok);
  assert.ok(limiter.take('a', later).ok);
  assert.equal(limiter.take('a', later).ok, false);
});

test('memory stays bounded under a flood of distinct keys', () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 }, 1000);
  for (let i = 0; i < 50_000; i++) limiter.take(`k${i}`, i);
  assert.ok(limiter.size <= 1000);
});
