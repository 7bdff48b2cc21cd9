// Users and log-in: registration, password check, token issue.
import { fail } from '../core/errors.js';
import { isUserName } from '../core/names.js';
import type { Actor, User, UserRecord } from '../core/types.js';
import type { RoomEvent } from '../bus/bus.js';
import { hashPassword, verifyNothing, verifyPassword } from '../auth/password.js';
import type { Tokens } from '../auth/tokens.js';
import type { Store } from '../store/store.js';

export interface AccountsOptions {
  readonly registration: boolean;
  readonly scryptCost: number;
}

const publicUser = (u: UserRecord): User => ({ name: u.name, admin: u.admin, createdAt: u.createdAt });

export class Accounts {
  constructor(
    private readonly store: Store,
    private readonly tokens: Tokens,
    private readonly publish: (event: RoomEvent) => void,
    private readonly options: AccountsOptions,
  ) {}

  /** Open registration (POST /v1/users). */
  register(name: string, password: string): Promise<User> {
    if (!this.options.registration) fail('registration_closed');
    return this.create(name, password, false);
  }

  /** Make a user regardless of the registration setting (the command line's `user add`). */
  async create(name: string, password: string, admin: boolean): Promise<User> {
    if (!isUserName(name)) fail('validation_failed', 'The user name does not match the allowed pattern.');
    if (await this.store.getUser(name)) fail('user_exists');
    const passwordHash = await hashPassword(password, this.options.scryptCost);
    return publicUser(await this.store.createUser({ name, passwordHash, admin }));
  }

  async login(name: string, password: string): Promise<{ token: string; expiresAt: string }> {
    const user = isUserName(name) ? await this.store.getUser(name) : undefined;
    const ok = user?.passwordHash
      ? await verifyPassword(password, user.passwordHash)
      : await verifyNothing(password, this.options.scryptCost);
    if (!ok || !user) fail('bad_credentials');
    // A user whose creation is not yet on disk gets no token a power loss would outlive.
    await this.store.untilDurable();
    return this.tokens.issue({ name: user.name, admin: user.admin }, user.createdAt);
  }

  /**
   * Delete a user (themselves, or anyone for an admin): memberships go, messages stay under the
   * name, every token issued to them stops working and their open connections end, on every node.
   * Refused with `user_owns_rooms` while they own rooms. `check` sees the user first (If-Match).
   */
  async delete(actor: Actor, name: string, check?: (current: User | undefined) => void): Promise<void> {
    if (actor.name !== name && !actor.admin)
      fail('forbidden', 'Only the user themselves or an admin may delete a user.');
    if (check) {
      const current = await this.store.getUser(name);
      check(current && publicUser(current));
    }
    const { rooms } = await this.store.deleteUser(name);
    this.tokens.forget(name);
    for (const room of rooms) this.publish({ type: 'member_left', room, user: name });
    this.publish({ type: 'user_deleted', user: name });
  }

  /**
   * Grant or take away a user's admin right (admins only, never their own, so an admin does not
   * take their own right away by mistake; two admins may still take each other's). Tokens carry
   * the right they were issued with, but no more than the user still has: taken away, it ends on
   * every node at once (their connections close with `rights_changed` and reconnect without it);
   * granted, it comes with their next token.
   */
  async setAdmin(
    actor: Actor,
    name: string,
    admin: boolean,
    check?: (current: User | undefined) => void,
  ): Promise<User> {
    if (!actor.admin) fail('forbidden', "Only an admin may change a user's rights.");
    if (actor.name === name) fail('forbidden', 'An admin cannot change their own rights.');
    const current = await this.store.getUser(name);
    check?.(current && publicUser(current));
    if (!current) fail('user_not_found');
    if (current.admin !== admin) {
      await this.store.setAdmin(name, admin);
      this.tokens.forget(name, 'changed');
      this.publish({ type: 'user_changed', user: name, admin });
    } else {
      // Nothing to write: the answer is what was read, so it waits to be durable, as reads do.
      await this.store.untilDurable();
    }
    return publicUser({ ...current, admin });
  }

  async get(name: string): Promise<User> {
    const user = await this.store.getUser(name);
    if (!user) fail('user_not_found');
    return publicUser(user);
  }
}
