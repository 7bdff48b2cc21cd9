// PostgreSQL and Redis for the cluster benchmark: the same URLs the multi-node tests use
// (PORTHOUSE_TEST_POSTGRES, PORTHOUSE_TEST_REDIS, defaulting to the local servers), a check that
// both answer, and throwaway databases, one per scenario, dropped afterwards.
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

export const POSTGRES_URL =
  process.env['PORTHOUSE_TEST_POSTGRES'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env['PORTHOUSE_TEST_REDIS'] ?? 'redis://127.0.0.1:6379';

/** The URL with its password hidden, for messages. */
export const shown = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/** Why PostgreSQL or Redis cannot be used now, or undefined when both answer. */
export async function servicesMissing(): Promise<string | undefined> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    problems.push(
      `PostgreSQL at ${shown(POSTGRES_URL)}: ${(err as Error).message || String(err)} (set PORTHOUSE_TEST_POSTGRES or start it)`,
    );
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The connect promise only says "Connection is closed"; the error event says why.
  let cause: Error | undefined;
  redis.on('error', (err: Error) => {
    cause = err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    problems.push(
      `Redis at ${shown(REDIS_URL)}: ${(cause ?? (err as Error)).message || String(err)} (set PORTHOUSE_TEST_REDIS or start it)`,
    );
  } finally {
    redis.disconnect();
  }
  return problems.length ? problems.join('\n') : undefined;
}

const PREFIX = 'porthouse_bench_cluster_';

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A fresh, empty database for one scenario; resolves with its URL. Databases left by an earlier
 * run of this benchmark that was killed (its pid is gone) are dropped first.
 */
export async function createDatabase(label: string): Promise<{ name: string; url: string }> {
  const name = `${PREFIX}${process.pid}_${label}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await admin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${PREFIX}%`],
    );
    for (const { datname } of rows) {
      const pid = Number(/^porthouse_bench_cluster_(\d+)_/.exec(datname)?.[1]);
      if (datname === name || (Number.isSafeInteger(pid) && !existsSync(`/proc/${pid}`)))
        await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await client.query(`CREATE DATABASE "${name}"`);
  });
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** What PostgreSQL did for everyone: checkpoints so far, and commits in databases other than `ours`. */
export interface PostgresActivity {
  readonly checkpoints: number;
  readonly otherCommits: number;
}

/**
 * Counters for spotting a disturbed run: every CREATE or DROP DATABASE (tests do many) forces an
 * immediate checkpoint, whose writes and fsyncs slow every commit on the server. The statistics
 * lag by up to a second or so.
 */
export async function postgresActivity(ours: string): Promise<PostgresActivity> {
  return admin(async (client) => {
    const checkpoints = await client.query<{ n: string }>(
      'SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter',
    );
    const commits = await client.query<{ n: string | null }>(
      'SELECT sum(xact_commit) AS n FROM pg_stat_database WHERE datname IS DISTINCT FROM $1',
      [ours],
    );
    return {
      checkpoints: Number(checkpoints.rows[0]?.n ?? 0),
      otherCommits: Number(commits.rows[0]?.n ?? 0),
    };
  });
}

export const activityDelta = (a: PostgresActivity, b: PostgresActivity): PostgresActivity => ({
  checkpoints: b.checkpoints - a.checkpoints,
  otherCommits: b.otherCommits - a.otherCommits,
});

/** One number from a query in the scenario database `name`. */
async function numberIn(name: string, sql: string): Promise<number> {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(sql);
    return Number(r.rows[0]?.n ?? Number.NaN);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Bytes the messages and idempotency keys of database `name` take, indexes included. */
export const messageBytes = (name: string) =>
  numberIn(
    name,
    "SELECT pg_total_relation_size('messages') + pg_total_relation_size('idempotency_keys') AS n",
  );

/** UPDATEs of the rooms table of database `name` so far, by PostgreSQL's statistics (which a backend reports when it ends). */
export const roomRowUpdates = (name: string) =>
  numberIn(name, "SELECT n_tup_upd AS n FROM pg_stat_user_tables WHERE relname = 'rooms'");
