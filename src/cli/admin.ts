// `porthouse user add`, `user admin` and `token`: operator commands on the deployment's own
// store: the data directory (safe while the node runs: SQLite WAL lets both write), or, with
// `--postgres`, the database every node shares, whose signing key makes a printed token good on
// every node. With `--redis` too, a right taken away ends the user's connections on every node
// at once, as the API does.
import { Tokens } from '../auth/tokens.js';
import type { Bus } from '../bus/bus.js';
import { MemoryBus } from '../bus/bus-memory.js';
import { RedisBus } from '../bus/bus-redis.js';
import { type Config, loadConfig } from '../config.js';
import { PorthouseError } from '../core/errors.js';
import { createServices } from '../service/services.js';
import type { Store } from '../store/store.js';
import { PostgresStore } from '../store/store-postgres.js';
import { SqliteStore } from '../store/store-sqlite.js';
import { configFromFlags } from './args.js';
import { readPassword } from './password-prompt.js';
import { print } from './print.js';

function openStore(config: Config): Promise<Store> {
  if (config.postgres)
    return PostgresStore.open({ url: config.postgres, poolSize: 2, maxBatch: 1 }).catch((err: unknown) => {
      throw new PorthouseError(
        'unavailable',
        `--postgres: cannot open the database (${(err as Error).message || String(err)})`,
      );
    });
  return Promise.resolve(new SqliteStore({ dir: config.data, synchronous: 'full', maxBatch: 1 }));
}

/** The deployment's bus when it has one, so other nodes hear of the change; else none. */
async function openBus(config: Config): Promise<Bus> {
  if (!config.redis) return new MemoryBus();
  const bus = new RedisBus({ url: config.redis, channel: config.redisChannel, reconnectMax: 1000 });
  try {
    await bus.connect();
    return bus;
  } catch (err) {
    await bus.close();
    process.stderr.write(
      `porthouse: --redis: cannot connect (${(err as Error).message}); the change is stored, and nodes see it within a minute\n`,
    );
    return new MemoryBus();
  }
}

async function withServices<T>(
  values: Record<string, unknown>,
  fn: (s: ReturnType<typeof createServices>, store: Store, bus: Bus) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ flags: configFromFlags(values), env: process.env });
  const store = await openStore(config);
  const bus = await openBus(config).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  try {
    const tokens = await Tokens.open(store, {
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      ttl: config.tokenTtl,
    });
    return await fn(
      createServices({ config: { ...config, registration: true }, store, bus, tokens }),
      store,
      bus,
    );
  } finally {
    // Its last events (a right taken away) go out before it disconnects.
    await bus.close();
    await store.close();
  }
}

async function newPassword(): Promise<string> {
  const password = await readPassword('password for the new user: ');
  if (password.length < 8)
    throw new PorthouseError(
      'validation_failed',
      'The password (read from standard input) must be at least 8 characters.',
    );
  return password;
}

export async function userAdd(name: string, admin: boolean, values: Record<string, unknown>): Promise<void> {
  const password = await newPassword();
  await withServices(values, async (s, store) => {
    try {
      await s.accounts.create(name, password, admin);
      print(values, { name, admin, created: true }, `user ${name} added${admin ? ' (admin)' : ''}`);
    } catch (err) {
      if (!(err instanceof PorthouseError && err.code === 'user_exists' && admin)) throw err;
      await store.setAdmin(name, true);
      print(values, { name, admin: true, created: false }, `user ${name} exists; now an admin`);
    }
  });
}

/**
 * Grant or take away the admin right in the deployment's store. A running node reads it again
 * within USER_RECHECK_MS for requests; with the deployment's Redis, every node hears of it at
 * once, as after the API's PATCH /v1/users/NAME (a right taken away ends live connections).
 */
export async function userAdmin(
  name: string,
  admin: boolean,
  values: Record<string, unknown>,
): Promise<void> {
  await withServices(values, async (s, store, bus) => {
    const user = await s.accounts.get(name);
    if (user.admin !== admin) {
      await store.setAdmin(name, admin);
      await bus.publish({ type: 'user_changed', user: name, admin });
    }
    print(
      values,
      { name, admin, changed: user.admin !== admin },
      `user ${name} ${user.admin === admin ? 'already' : 'now'} ${admin ? 'an admin' : 'not an admin'}`,
    );
  });
}

export async function token(name: string, values: Record<string, unknown>): Promise<void> {
  await withServices(values, async (s) => {
    const user = await s.accounts.get(name);
    const issued = await s.tokens.issue({ name: user.name, admin: user.admin }, user.createdAt);
    print(values, { name: user.name, ...issued }, issued.token);
  });
}
