// Group commit for a database spoken to over a connection (PostgreSQL): the writes queued while
// the previous batch was committing share the next transaction and its one WAL flush, yet each
// resolves or rejects on its own. One batch at a time per node, so under load batches grow by
// themselves; idle, a write commits at once. Writes of one kind queued one after another (a
// Batched kind: message appends) run as one set of statements, so a batch costs a constant number
// of round trips however large it grows.

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

/** What one item of a Batched run came to: its value, or the error it alone failed with. */
export type Outcome<T> = { readonly value: T } | { readonly error: unknown };

/**
 * A kind of write whose neighbours in the queue run together: `exec` gets every item of a run (in
 * queue order) and answers for each. A per-item error (room not found) is an outcome, not a
 * throw; a throw fails the run, which is then retried item by item.
 */
export interface Batched<I, T> {
  readonly exec: (run: Run, items: readonly I[]) => Promise<Outcome<T>[]>;
  /**
   * The same run as one statement that is atomic by itself, for a batch that is nothing but this
   * run: it needs no BEGIN and COMMIT around it. A throw sends the batch to the careful path.
   */
  readonly alone?: (run: Run, items: readonly I[]) => Promise<Outcome<T>[]>;
}

interface Pending {
  readonly op: ((run: Run) => Promise<unknown>) | undefined;
  readonly kind: Batched<unknown, unknown> | undefined;
  readonly item: unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/** Thrown inside the fast path to roll its transaction back. */
class OpFailed extends Error {
  constructor(
    cause: unknown,
    /** The failure may be the statement's form, not the write's (an `alone` run): retry carefully. */
    readonly retry = false,
  ) {
    super('a write in the group failed', { cause });
  }
}

/** PostgreSQL SQLSTATEs after which the whole batch may simply be run again. */
const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure
const MAX_ATTEMPTS = 5;

export interface AsyncBatchStats {
  readonly size: number;
  readonly seconds: number;
  /** Statements sent for the batch, BEGIN and COMMIT included, over every attempt. */
  readonly statements: number;
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
    return this.#enqueue<T>(op, undefined, undefined);
  }

  /** Queue `item` of `kind`; it runs with the items of that kind queued next to it. */
  runBatched<I, T>(kind: Batched<I, T>, item: I): Promise<T> {
    return this.#enqueue<T>(undefined, kind as Batched<unknown, unknown>, item);
  }

  #enqueue<T>(
    op: ((run: Run) => Promise<unknown>) | undefined,
    kind: Batched<unknown, unknown> | undefined,
    item: unknown,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, kind, item, resolve: resolve as (v: unknown) => void, reject });
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
    let statements = 0;
    for (let attempt = 1; ; attempt++) {
      let conn: TxConnection;
      try {
        const raw = await this.#connect();
        conn = {
          query: (sql, params) => {
            statements++;
            return raw.query(sql, params);
          },
          release: (err) => raw.release(err),
        };
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
      let outcome: { results: unknown[]; errors: unknown[] };
      try {
        outcome = await this.#fast(conn, batch).catch(async (err: unknown) => {
          if (!(err instanceof OpFailed)) throw err;
          if (batch.length === 1 && !err.retry)
            return { results: [], errors: [err.cause ?? new Error('write failed')] };
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
      this.#onBatch?.({
        size: batch.length,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        statements,
      });
      for (let i = 0; i < batch.length; i++) {
        if (outcome.errors[i] !== undefined) batch[i]!.reject(outcome.errors[i]);
        else batch[i]!.resolve(outcome.results[i]);
      }
      return;
    }
  }

  /** The whole batch in one transaction, no savepoints: the usual path. */
  async #fast(conn: TxConnection, batch: Pending[]): Promise<{ results: unknown[]; errors: unknown[] }> {
    const alone = batch[0]!.kind?.alone;
    // A batch of one kind's run alone is one statement, its own transaction: one round trip.
    if (alone && runEnd(batch, 0) === batch.length) return this.#alone(conn, alone, batch);
    await conn.query('BEGIN');
    const results: unknown[] = new Array(batch.length);
    const errors: unknown[] = new Array(batch.length);
    for (let i = 0; i < batch.length; ) {
      const end = runEnd(batch, i);
      try {
        if (end > i) {
          const outcomes = await execRun(conn.query, batch, i, end);
          for (let j = i; j < end; j++) settle(outcomes[j - i]!, j, results, errors);
          i = end;
        } else {
          results[i] = await batch[i]!.op!(conn.query);
          i++;
        }
      } catch (err) {
        await conn.query('ROLLBACK');
        // A deadlock or serialization failure is the batch's, not the op's: retry it whole.
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code)) throw err;
        throw new OpFailed(err);
      }
    }
    await conn.query('COMMIT');
    return { results, errors };
  }

  async #alone(
    conn: TxConnection,
    alone: NonNullable<Batched<unknown, unknown>['alone']>,
    batch: Pending[],
  ): Promise<{ results: unknown[]; errors: unknown[] }> {
    const results: unknown[] = new Array(batch.length);
    const errors: unknown[] = new Array(batch.length);
    let outcomes: Outcome<unknown>[];
    try {
      outcomes = await alone(
        conn.query,
        batch.map((p) => p.item),
      );
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== undefined && RETRYABLE.has(code)) throw err;
      // A key committed by the transaction this statement waited for fails it even alone.
      throw new OpFailed(err, true);
    }
    answeredAll(outcomes, batch.length);
    for (let i = 0; i < batch.length; i++) settle(outcomes[i]!, i, results, errors);
    return { results, errors };
  }

  /**
   * After a statement failed: each op in a savepoint, so a failing one rolls back only itself. A
   * run of batched items is tried whole in one savepoint first, then item by item.
   */
  async #careful(conn: TxConnection, batch: Pending[]): Promise<{ results: unknown[]; errors: unknown[] }> {
    await conn.query('BEGIN');
    const results: unknown[] = new Array(batch.length);
    const errors: unknown[] = new Array(batch.length);
    const attempt = async (first: number, end: number): Promise<unknown> => {
      await conn.query('SAVEPOINT op');
      try {
        if (end > first) {
          const outcomes = await execRun(conn.query, batch, first, end);
          for (let j = first; j < end; j++) settle(outcomes[j - first]!, j, results, errors);
        } else results[first] = await batch[first]!.op!(conn.query);
        await conn.query('RELEASE SAVEPOINT op');
        return undefined;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code)) {
          await conn.query('ROLLBACK');
          throw err;
        }
        await conn.query('ROLLBACK TO SAVEPOINT op');
        return err ?? new Error('write failed');
      }
    };
    for (let i = 0; i < batch.length; ) {
      const end = runEnd(batch, i);
      if (end === i) {
        const err = await attempt(i, i);
        if (err !== undefined) errors[i] = err;
        i++;
        continue;
      }
      const whole = await attempt(i, end);
      // A run of one has nothing to split: its error is its item's.
      if (whole !== undefined && end - i === 1) errors[i] = whole;
      else if (whole !== undefined)
        for (let j = i; j < end; j++) {
          const err = await attempt(j, j + 1);
          if (err !== undefined) errors[j] = err;
        }
      i = end;
    }
    await conn.query('COMMIT');
    return { results, errors };
  }
}

/** Where the run of batched items of one kind starting at `i` ends (exclusive); `i` for an op. */
function runEnd(batch: readonly Pending[], i: number): number {
  const kind = batch[i]!.kind;
  if (!kind) return i;
  let end = i + 1;
  while (end < batch.length && batch[end]!.kind === kind) end++;
  return end;
}

async function execRun(
  run: Run,
  batch: readonly Pending[],
  first: number,
  end: number,
): Promise<Outcome<unknown>[]> {
  const items = batch.slice(first, end).map((p) => p.item);
  const outcomes = await batch[first]!.kind!.exec(run, items);
  answeredAll(outcomes, items.length);
  return outcomes;
}

/** A Batched kind answers for each item it was given, in order; anything else is a bug. */
function answeredAll(outcomes: readonly Outcome<unknown>[], items: number): void {
  if (outcomes.length !== items) throw new Error(`a batched run answered ${outcomes.length} of ${items}`);
}

function settle(outcome: Outcome<unknown>, i: number, results: unknown[], errors: unknown[]): void {
  if ('error' in outcome) errors[i] = outcome.error ?? new Error('write failed');
  else results[i] = outcome.value;
}
