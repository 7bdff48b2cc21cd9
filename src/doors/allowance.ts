// One connection's own allowances, the per-connection limits every real-time door applies the
// same way: messages posted and typing notices (`--rate-limits off` lifts both).
import { RateLimiter } from '../core/rate-limiter.js';

export interface AllowanceOptions {
  /** False lifts both limits. */
  readonly limits: boolean;
  readonly pubPerSecond: number;
  readonly pubBurst: number;
  readonly typingPerSecond: number;
}

/** Undefined when allowed; else the seconds until the next one would be. */
export type Refusal = { readonly retryAfter: number } | undefined;

export class Allowance {
  readonly #pubs: RateLimiter;
  readonly #typing: RateLimiter;

  constructor(private readonly options: AllowanceOptions) {
    // One bucket each: the key is the connection itself.
    this.#pubs = new RateLimiter({ ratePerSecond: options.pubPerSecond, burst: options.pubBurst }, 1);
    this.#typing = new RateLimiter(
      { ratePerSecond: options.typingPerSecond, burst: options.typingPerSecond },
      1,
    );
  }

  pub(): Refusal {
    return this.#take(this.#pubs);
  }

  typing(): Refusal {
    return this.#take(this.#typing);
  }

  #take(limiter: RateLimiter): Refusal {
    if (!this.options.limits) return undefined;
    const decision = limiter.take('c', Date.now());
    return decision.ok ? undefined : { retryAfter: decision.retryAfter };
  }
}
