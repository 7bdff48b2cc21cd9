// `porthouse user add` and `porthouse token`: run on the server's machine against its data
// directory (safe while the node runs: SQLite WAL lets both write).
import { Tokens } from '../auth/tokens.js';
import { loadConfig } from '../config.js';
import { MemoryBus } from '../bus/bus-memory.js';
import { PorthouseError } from '../core/errors.js';
import { createServices } from '../service/services.js';
import { SqliteStore } from '../store/store-sqlite.js';
import { configFromFlags } from './args.js';

async function withServices<T>(
  values: Record<string, unknown>,
  fn: (s: ReturnType<typeof createServices>, store: SqliteStore) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ flags: configFromFlags(values), env: process.env });
  const store = new SqliteStore({ dir: config.data, synchronous: 'full', maxBatch: 1 });
  try {
    const tokens = await Tokens.open(store, {
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      ttl: config.tokenTtl,
    });
    return await fn(
      createServices({ config: { ...config, registration: true }, store, bus: new MemoryBus(), tokens }),
      store,
    );
  } finally {
    await store.close();
  }
}

async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password.length < 8)
    throw new PorthouseError(
      'validation_failed',
      'The password (read from standard input) must be at least 8 characters.',
    );
  return password;
}

export async function userAdd(name: string, admin: boolean, values: Record<string, unknown>): Promise<void> {
  if (process.stdin.isTTY) process.stderr.write('password (then Enter and Ctrl-D): ');
  const password = await readPassword();
  await withServices(values, async (s, store) => {
    try {
      await s.accounts.create(name, password, admin);
      process.stdout.write(`user ${name} added${admin ? ' (admin)' : ''}\n`);
    } catch (err) {
      if (!(err instanceof PorthouseError && err.code === 'user_exists' && admin)) throw err;
      await store.setAdmin(name, true);
      process.stdout.write(`user ${name} exists; now an admin\n`);
    }
  });
}

/**
 * Grant or take away the admin right in the data directory. A running node reads it again within
 * USER_RECHECK_MS for requests; only the API (PATCH /v1/users/NAME) also ends live connections.
 */
export async function userAdmin(
  name: string,
  admin: boolean,
  values: Record<string, unknown>,
): Promise<void> {
  await withServices(values, async (s, store) => {
    const user = await s.accounts.get(name);
    if (user.admin !== admin) await store.setAdmin(name, admin);
    process.stdout.write(
      `user ${name} ${user.admin === admin ? 'already' : 'now'} ${admin ? 'an admin' : 'not an admin'}\n`,
    );
  });
}

export async function token(name: string, values: Record<string, unknown>): Promise<void> {
  await withServices(values, async (s) => {
    const user = await s.accounts.get(name);
    const { token } = await s.tokens.issue({ name: user.name, admin: user.admin }, user.createdAt);
    process.stdout.write(`${token}\n`);
  });
}
