// Address-check cookies for UDP subscriptions (the idea of DNS cookies and QUIC's Retry): an
// HMAC of the source address, port and a time window under a secret only the deployment knows
// (kept in the store, so every node behind one UDP balancer accepts the others' cookies). A
// sender that echoes it back proves it receives at that address, so the server never streams
// events to an address that only claimed to be the sender (no reflection, no amplification).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The store setting that holds the deployment's cookie secret (base64). */
export const COOKIE_SECRET_SETTING = 'udp_cookie_secret';

export class CookieJar {
  readonly #secret: Buffer;

  constructor(
    /** A cookie is accepted during its window and the next one. */
    private readonly windowMs = 30_000,
    secret: Buffer = randomBytes(32),
  ) {
    this.#secret = secret;
  }

  issue(address: string, port: number, now = Date.now()): string {
    return this.#mac(address, port, Math.floor(now / this.windowMs));
  }

  check(cookie: unknown, address: string, port: number, now = Date.now()): boolean {
    if (typeof cookie !== 'string' || cookie.length !== 22) return false;
    const window = Math.floor(now / this.windowMs);
    const given = Buffer.from(cookie);
    for (const w of [window, window - 1]) {
      const expected = Buffer.from(this.#mac(address, port, w));
      if (expected.length === given.length && timingSafeEqual(expected, given)) return true;
    }
    return false;
  }

  #mac(address: string, port: number, window: number): string {
    return createHmac('sha256', this.#secret)
      .update(`${address}|${port}|${window}`)
      .digest('base64url')
      .slice(0, 22);
  }
}
