// Group commit for a database spoken to over a connection (PostgreSQL): the writes queued while
// the previous batch was committing share the next transaction and its one WAL flush, yet each
// resolves or rejects on its own. One batch at a time per node, so under load batches grow by
// themselves; idle, a write commits at once.

import type { QueryResultRow } from 'pg';

/** What an op may run: one statement on the batch's connection. */
export type Run = (
  sql: string,
  params?: readonly unknown[],
) => Promise<{ rows: QueryResultRow[]; rowCount: number | null }>;

export interface TxConnection {
  query: Run;
  release(err?: Error | boolean): void;
}

interface Pending {
  readonly op: (run: Run) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Thrown inside the fast path to roll its transaction back. */
class OpFailed extends Error {
  constructor(cause: unknown) {
    super('a write in the group failed', { cause });
  }
}

/** PostgreSQL SQLSTATEs after which the whole batch may simply be run again. */
const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure
const MAX_ATTEMPTS = 5;

export interface AsyncBatchStats {
  readonly size: number;
  readonly seconds: number;
}

export class AsyncGroupCommit {
  readonly #connect: () => Promise<TxConnection>;
  readonly #maxBatch: number;
  readonly #onBatch: ((s: AsyncBatchStats) => void) | undefined;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(
    connect: () => Promise<TxConnection>,
    options: { maxBatch: number; onBatch?: (s: AsyncBatchStats) => void },
  ) {
    this.#connect = connect;
    this.#maxBatch = options.maxBatch;
    this.#onBatch = options.onBatch;
  }

  /**
   * Run `op` inside the next group transaction; resolves after that transaction committed. An op
   * must compute only from what it reads through `run`: a batch may be replayed.
   */
  run<T>(op: (run: Run) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      this.#running ??= this.#drain();
    });
  }

  /** Finish every queued write, then refuse new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
  }

  async #drain(): Promise<void> {
    // Let every write made in this turn join the first batch.
    await new Promise((r) => setImmediate(r));
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      await this.#commit(batch);
    }
    this.#running = undefined;
  }

  async #commit(batch: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    for (let attempt = 1; ; attempt++) {
      let conn: TxConnection;
      try {
        conn = await this.#connect();
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
      let outcome: { results: unknown[]; errors: unknown[] };
      try {
        outcome = await this.#fast(conn, batch).catch(async (err: unknown) => {
          if (!(err instanceof OpFailed)) throw err;
          if (batch.length === 1) return { results: [], errors: [err.cause ?? new Error('write failed')] };
          return this.#careful(conn, batch);
        });
        conn.release();
      } catch (err) {
        // The connection may be unusable (or mid-transaction): discard it.
        conn.release(true);
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
        for (const p of batch) p.reject(err);
        return;
      }
      this.#onBatch?.({ size: batch.length, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
      for (let i = 0; i < batch.length; i++) {
        if (outcome.errors[i] !== undefined) batch[i]!.reject(outcome.errors[i]);
        else batch[i]!.resolve(outcome.results[i]);
      }
      return;
    }
  }

  /** The whole batch in one transaction, no savepoints: the usual path. */
  async #fast(conn: TxConnection, batch: Pending[]): Promise<{ results: unknown[]; errors: unknown[] }> {
    await conn.query('BEGIN');
    const results: unknown[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      try {
        results[i] = await batch[i]!.op(conn.query);
      } catch (err) {
        await conn.query('ROLLBACK');
        // A deadlock or serialization failure is the batch's, not the op's: retry it whole.
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code)) throw err;
        throw new OpFailed(err);
      }
    }
    await conn.query('COMMIT');
    return { results, errors: [] };
  }

  /** After an op failed: each op in a savepoint, so a failing one rolls back only itself. */
  async #careful(conn: TxConnection, batch: Pending[]): Promise<{ results: unknown[]; errors: unknown[] }> {
    await conn.query('BEGIN');
    const results: unknown[] = new Array(batch.length);
    const errors: unknown[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      await conn.query('SAVEPOINT op');
      try {
        results[i] = await batch[i]!.op(conn.query);
        await conn.query('RELEASE SAVEPOINT op');
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code)) {
          await conn.query('ROLLBACK');
          throw err;
        }
        await conn.query('ROLLBACK TO SAVEPOINT op');
        errors[i] = err ?? new Error('write failed');
      }
    }
    await conn.query('COMMIT');
    return { results, errors };
  }
}
