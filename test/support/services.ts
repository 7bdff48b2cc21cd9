// The machine's PostgreSQL and Redis for the tests that need them: PORTHOUSE_TEST_POSTGRES and
// PORTHOUSE_TEST_REDIS, defaulting to the local servers. When one is unreachable its suites are
// skipped with the reason printed loudly, except under CI=true, where that fails the run.
import { connect } from 'node:net';
import { after, before } from 'node:test';
import pg from 'pg';

export const POSTGRES_URL = process.env.PORTHOUSE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.PORTHOUSE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

function reachable(url: string, defaultPort: number): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || defaultPort), hostname || '127.0.0.1');
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(2000, () => done(`no answer from ${hostname}:${port || defaultPort} within 2 s`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err) => done(`${hostname}:${port || defaultPort}: ${err.message}`));
  });
}

async function missing(
  what: string,
  variable: string,
  url: string,
  port: number,
): Promise<string | undefined> {
  const reason = await reachable(url, port);
  if (reason === undefined) return undefined;
  const text = `${what} unreachable (${reason}); set ${variable} or start it`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${text}`);
  process.stderr.write(`\n*** SKIPPING the ${what} tests: ${text} ***\n\n`);
  return text;
}

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export const postgresMissing = () => missing('PostgreSQL', 'PORTHOUSE_TEST_POSTGRES', POSTGRES_URL, 5432);
/** Why the Redis tests cannot run here, or undefined when they can. */
export const redisMissing = () => missing('Redis', 'PORTHOUSE_TEST_REDIS', REDIS_URL, 6379);

/** One statement on the test server's own database (CREATE DATABASE and the like), on a connection of its own. */
export async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL database of the suite's own, made in the suite's `before` and dropped (WITH
 * FORCE) in its `after`; call inside `describe`. Returns its URL once `before` has run.
 */
export function throwawayDatabase(prefix: string): () => string {
  const name = `porthouse_${prefix}_${process.pid}_${Date.now().toString(36)}`;
  let url: string | undefined;
  before(async () => {
    await admin(`CREATE DATABASE "${name}"`);
    const u = new URL(POSTGRES_URL);
    u.pathname = `/${name}`;
    url = u.toString();
  });
  after(() => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  return () => {
    if (url === undefined) throw new Error('throwawayDatabase: used before its before() ran');
    return url;
  };
}
