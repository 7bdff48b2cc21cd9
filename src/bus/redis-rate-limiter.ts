// Rate limits shared by every node: one GCRA cell per key in Redis (the algorithm of redis-cell
// and go-redis/redis_rate: a "theoretical arrival time" instead of a token count, so one key
// and one round trip per decision), timed by Redis' clock so the nodes' clocks do not matter.
// While Redis is away each node falls back to its own buckets: limits stay on, per node.
import type { Redis } from 'ioredis';
import { type Limiter, type RateDecision, type RateLimit, RateLimiter } from '../core/rate-limiter.js';

/**
 * KEYS[1] the cell; ARGV ms per token, burst, cost. Returns {1, 0} when allowed, else {0, ms
 * until it would be}.
 */
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next = tat + interval * cost
local wait = next - interval * burst - now
if wait > 0 then return {0, math.ceil(wait)} end
redis.call('SET', KEYS[1], tostring(next), 'PX', math.ceil(next - now) + 1)
return {1, 0}`;

interface GcraCommand {
  porthouseGcra(key: string, interval: number, burst: number, cost: number): Promise<[number, number]>;
}

export class RedisRateLimiter implements Limiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limit: RateLimit;
  readonly #local: RateLimiter;

  /** `redis` should fail fast when disconnected (no offline queue): the fallback answers then. */
  constructor(redis: Redis, prefix: string, limit: RateLimit) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#limit = limit;
    this.#local = new RateLimiter(limit);
    if (!('porthouseGcra' in redis)) redis.defineCommand('porthouseGcra', { numberOfKeys: 1, lua: GCRA });
  }

  async take(key: string, nowMs: number, cost = 1): Promise<RateDecision> {
    if (this.#redis.status !== 'ready') return this.#local.take(key, nowMs, cost);
    try {
      const [ok, waitMs] = await (this.#redis as unknown as GcraCommand).porthouseGcra(
        `${this.#prefix}${key}`,
        1000 / this.#limit.ratePerSecond,
        this.#limit.burst,
        cost,
      );
      return ok === 1
        ? { ok: true, retryAfter: 0 }
        : { ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch {
      return this.#local.take(key, nowMs, cost);
    }
  }
}
