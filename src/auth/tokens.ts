// Signed bearer tokens (JWT, EdDSA). The key pair is made once and kept in the store, so every
// node of a deployment and every restart verify the same tokens. A node checks once a minute per
// token that its user still exists (one indexed read; otherwise the verified token is cached),
// so a deleted user's tokens stop working everywhere. Tokens from an external identity server are accepted too
// when a JWKS URL is configured (API, data and auth can then live on different servers).
import {
  type KeyObject,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import { type JWTPayload, SignJWT, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { USER_RECHECK_MS } from '../core/authorize.js';
import { PorthouseError, USER_DELETED } from '../core/errors.js';
import { isUserName } from '../core/names.js';
import type { Actor } from '../core/types.js';
import type { Store } from '../store/store.js';

export interface TokenOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Seconds. */
  readonly ttl: number;
  readonly jwksUrl?: string | undefined;
  /** Verified tokens remembered, so a busy client does not pay a signature check per request. */
  readonly cacheSize?: number;
}

/** Longest token looked at; anything longer is refused before parsing. */
const MAX_TOKEN_LENGTH = 8192;
const SIGNING_KEY_SETTING = 'token_signing_key';
const EXTERNAL_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'];

interface Cached {
  readonly actor: Actor;
  readonly expMs: number;
  /** When the user's existence is looked up again (our own tokens only). */
  readonly recheckMs: number;
}

export class Tokens {
  readonly #options: TokenOptions;
  readonly #kid: string;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  readonly #cache = new Map<string, Cached>();
  readonly #cacheSize: number;

  readonly #store: Store;
  /**
   * How often each user was forgotten: a verification that read the user before a deletion and
   * finishes after it sees the count move, and refuses instead of caching a dead user's token.
   */
  readonly #forgotten = new Map<string, number>();
  /** Users whose rights changed (counted), so a check under way reads them again. */
  readonly #changed = new Map<string, number>();

  private constructor(store: Store, options: TokenOptions, kid: string, privateKey: KeyObject) {
    this.#store = store;
    this.#options = options;
    this.#kid = kid;
    this.#privateKey = privateKey;
    this.#publicKey = createPublicKey(privateKey);
    this.#cacheSize = options.cacheSize ?? 10_000;
    this.#jwks = options.jwksUrl
      ? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 })
      : undefined;
  }

  /** Load the deployment's signing key from the store, making it on first use. */
  static async open(store: Store, options: TokenOptions): Promise<Tokens> {
    const stored = await store.settingOrInit(SIGNING_KEY_SETTING, () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const jwk = privateKey.export({ format: 'jwk' });
      return JSON.stringify({ ...jwk, kid: randomBytes(8).toString('base64url') });
    });
    const jwk = JSON.parse(stored) as { kid: string; kty: string; crv: string; x: string; d: string };
    const privateKey = createPrivateKey({
      key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d },
      format: 'jwk',
    });
    return new Tokens(store, options, jwk.kid, privateKey);
  }

  /** The public half, as a JWKS document other services can verify our tokens with. */
  publicJwks(): { keys: object[] } {
    return {
      keys: [{ ...this.#publicKey.export({ format: 'jwk' }), kid: this.#kid, alg: 'EdDSA', use: 'sig' }],
    };
  }

  /**
   * A token for `actor`. `createdAt` (the user's) goes in as the `uc` claim, so that a token of a
   * deleted user never opens the account of someone who later registers the same name.
   */
  async issue(actor: Actor, createdAt?: string): Promise<{ token: string; expiresAt: string }> {
    const exp = Math.floor(Date.now() / 1000) + this.#options.ttl;
    const claims: JWTPayload = actor.admin ? { adm: true } : {};
    if (createdAt !== undefined) claims['uc'] = Date.parse(createdAt);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.#kid, typ: 'JWT' })
      .setSubject(actor.name)
      .setIssuer(this.#options.issuer)
      .setAudience(this.#options.audience)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.#privateKey);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The actor a token speaks for; `token_invalid` or `token_expired` otherwise. */
  async verify(token: string): Promise<Actor> {
    return this.verifiedBefore(token) ?? this.#verify(token);
  }

  /**
   * The actor of a token this node has verified before and that has not expired, without
   * waiting on a promise (the hot path of every request); undefined when it must be verified.
   */
  verifiedBefore(token: string): Actor | undefined {
    const hit = this.#cache.get(token);
    if (!hit) return undefined;
    const now = Date.now();
    if (hit.expMs <= now) {
      this.#cache.delete(token);
      throw new PorthouseError('token_expired');
    }
    return hit.recheckMs > now ? hit.actor : undefined;
  }

  /**
   * Forget every verified token of `user`: their next use looks the user up. `deleted`: a check
   * under way when this lands refuses the token; `changed` (their rights): it reads them again.
   */
  forget(user: string, why: 'deleted' | 'changed' = 'deleted'): void {
    const counts = why === 'deleted' ? this.#forgotten : this.#changed;
    counts.set(user, (counts.get(user) ?? 0) + 1);
    for (const [token, hit] of this.#cache) if (hit.actor.name === user) this.#cache.delete(token);
  }

  async #verify(token: string): Promise<Actor> {
    if (token.length > MAX_TOKEN_LENGTH) throw new PorthouseError('token_invalid', 'The token is too long.');
    let payload: JWTPayload;
    let ours = false;
    try {
      const header = decodeProtectedHeader(token);
      const common = {
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        requiredClaims: ['exp', 'sub'],
      };
      if (header.kid === this.#kid) {
        ({ payload } = await jwtVerify(token, this.#publicKey, { ...common, algorithms: ['EdDSA'] }));
        ours = true;
      } else if (this.#jwks) {
        ({ payload } = await jwtVerify(token, this.#jwks, { ...common, algorithms: EXTERNAL_ALGORITHMS }));
      } else {
        throw new PorthouseError('token_invalid', 'The token was not signed by this server.');
      }
    } catch (err) {
      if (err instanceof PorthouseError) throw err;
      if (err instanceof errors.JWTExpired) throw new PorthouseError('token_expired');
      throw new PorthouseError('token_invalid');
    }
    if (!isUserName(payload.sub))
      throw new PorthouseError('token_invalid', 'The token subject is not a valid user name.');
    // Users of an external identity server are not in the store; ours must still exist, and be
    // the user the token was issued to, not a later one who registered the same name.
    let admin = payload['adm'] === true;
    if (ours) {
      const forgotten = this.#forgotten.get(payload.sub);
      const changed = this.#changed.get(payload.sub);
      let user = await this.#store.getUser(payload.sub);
      // Their rights changed while they were read: what was read may be the old ones.
      if (this.#changed.get(payload.sub) !== changed) user = await this.#store.getUser(payload.sub);
      if (this.#forgotten.get(payload.sub) !== forgotten)
        throw new PorthouseError('token_invalid', USER_DELETED);
      if (!user) throw new PorthouseError('token_invalid', 'The user of this token no longer exists.');
      const created = Date.parse(user.createdAt);
      // `uc` names the user exactly; a token without it (crafted, or from before it existed)
      // must at least be younger than the user.
      const same =
        typeof payload['uc'] === 'number'
          ? payload['uc'] === created
          : typeof payload.iat === 'number' && payload.iat >= Math.floor(created / 1000);
      if (!same)
        throw new PorthouseError('token_invalid', 'The token was issued to an earlier user of this name.');
      // A token speaks for at most what it was issued with and what the user still has: rights
      // taken away (`porthouse user admin NAME --revoke`) end at the next recheck, not at expiry.
      admin &&= user.admin;
    }
    const actor: Actor = Object.freeze({ name: payload.sub, admin });
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    const now = Date.now();
    this.#cache.delete(token); // re-inserted last: the oldest entry is the first to go
    this.#cache.set(token, {
      actor,
      expMs: (payload.exp as number) * 1000,
      recheckMs: ours ? now + USER_RECHECK_MS : Number.POSITIVE_INFINITY,
    });
    return actor;
  }
}
