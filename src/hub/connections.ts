// The authenticated frame connections of a node and their users' lifetime: who is attached (to
// hear of rooms they are added to), the per-user cap, connections already gone, and users
// deleted or stripped of a right a moment ago, so a connection racing that change is turned away.
import { USER_RECHECK_MS } from '../core/authorize.js';
import { type ErrorCode, USER_DELETED } from '../core/errors.js';
import type { Subscriber } from './subscription.js';

export class Connections {
  /** user → their attached connections. */
  readonly #byUser = new Map<string, Set<Subscriber>>();
  readonly #attached = new Map<Subscriber, string>();
  /** Connections that are gone: a subscribe still on its way for one of them stops. */
  readonly #dropped = new WeakSet<Subscriber>();
  /**
   * A connection whose token was verified just before its user's deletion may attach or
   * subscribe just after it: deleted users are remembered for a while (tokens are re-checked
   * within USER_RECHECK_MS) and turned away.
   */
  readonly #deleted = new Map<string, number>();
  #revocations = 0;

  /** `maxPerUser`: most connections one user may have attached; 0 for no limit. */
  constructor(private readonly maxPerUser: number) {}

  /** Attach, or end the connection and say why (its user was deleted, or is at the cap). */
  attach(subscriber: Subscriber): ErrorCode | undefined {
    const name = subscriber.actor.name;
    if (this.wasDeleted(name)) {
      subscriber.end?.('token_invalid', USER_DELETED);
      return 'token_invalid';
    }
    let conns = this.#byUser.get(name);
    if (this.maxPerUser > 0 && (conns?.size ?? 0) >= this.maxPerUser) {
      subscriber.end?.(
        'too_many_connections',
        `${name} already has ${this.maxPerUser} connections open here; close one and try again.`,
      );
      return 'too_many_connections';
    }
    this.#attached.set(subscriber, name);
    if (!conns) {
      conns = new Set();
      this.#byUser.set(name, conns);
    }
    conns.add(subscriber);
    return undefined;
  }

  /** The connection is gone for good. */
  detach(subscriber: Subscriber): void {
    this.#dropped.add(subscriber);
    const name = this.#attached.get(subscriber);
    if (name === undefined) return;
    this.#attached.delete(subscriber);
    const conns = this.#byUser.get(name)!;
    conns.delete(subscriber);
    if (conns.size === 0) this.#byUser.delete(name);
  }

  /** Users with a connection here, and their connections. */
  get counts(): { readonly users: number; readonly connections: number } {
    return { users: this.#byUser.size, connections: this.#attached.size };
  }

  isDropped(subscriber: Subscriber): boolean {
    return this.#dropped.has(subscriber);
  }

  /** The user's attached connections. */
  of(user: string): ReadonlySet<Subscriber> {
    return this.#byUser.get(user) ?? new Set();
  }

  /** Remember a deleted user for twice the token re-check interval. */
  userDeleted(user: string): void {
    const now = Date.now();
    for (const [name, until] of this.#deleted) if (until <= now) this.#deleted.delete(name);
    this.#deleted.set(user, now + 2 * USER_RECHECK_MS);
  }

  wasDeleted(user: string): boolean {
    const until = this.#deleted.get(user);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#deleted.delete(user);
    return false;
  }

  /** Admin rights taken away so far (any user's): a subscribe that spans one checks again. */
  get revocations(): number {
    return this.#revocations;
  }

  /** Someone's admin right was taken away. */
  rightsRevoked(): void {
    this.#revocations++;
  }

  clear(): void {
    this.#byUser.clear();
    this.#attached.clear();
  }
}
