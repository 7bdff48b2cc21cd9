// Token buckets keyed by client. The clock is passed in, so the rule is pure and testable;
// the doors supply the key (user name, or source address before authentication).

export interface RateLimit {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size: how many may be spent at once after a quiet spell. */
  readonly burst: number;
}

export interface RateDecision {
  readonly ok: boolean;
  /** Seconds until one token is available again (0 when ok). */
  readonly retryAfter: number;
}

/**
 * Where the buckets live: in this process (RateLimiter), or shared by every node of a cluster
 * (RedisRateLimiter), which answers asynchronously.
 */
export interface Limiter {
  take(key: string, nowMs: number, cost?: number): RateDecision | Promise<RateDecision>;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter implements Limiter {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;

  /** `maxKeys` bounds memory under a flood of distinct keys; the oldest buckets are dropped first. */
  constructor(limit: RateLimit, maxKeys = 100_000) {
    this.#limit = limit;
    this.#maxKeys = maxKeys;
  }

  take(key: string, nowMs: number, cost = 1): RateDecision {
    const { ratePerSecond, burst } = this.#limit;
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#maxKeys) this.#evictOldest();
      b = { tokens: burst, at: nowMs };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * ratePerSecond);
      b.at = nowMs;
    }
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { ok: true, retryAfter: 0 };
    }
    return { ok: false, retryAfter: Math.max(1, Math.ceil((cost - b.tokens) / ratePerSecond)) };
  }

  get size(): number {
    return this.#buckets.size;
  }

  #evictOldest(): void {
    const drop = Math.max(1, Math.floor(this.#maxKeys / 10));
    let n = 0;
    for (const key of this.#buckets.keys()) {
      this.#buckets.delete(key);
      if (++n >= drop) break;
    }
  }
}
