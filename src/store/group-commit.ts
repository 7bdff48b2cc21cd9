// Group commit for a synchronous database: writes queued within one event-loop turn run in one
// transaction and share one fsync, yet each resolves or rejects on its own.
// This is what lets hundreds of concurrent posts be durable without hundreds of fsyncs.
import type { Database } from './sqlite-driver.js';
import { PorthouseError } from '../core/errors.js';
import { type WriteTiming, preciseNow } from '../core/journey.js';

interface Pending {
  readonly op: () => unknown;
  /** Where the commit's and the sync's times go, when someone traces this write. */
  readonly timing: WriteTiming | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

interface Outcome {
  readonly results: unknown[];
  /** errors[i] set: op i failed and changed nothing. */
  readonly errors: unknown[];
}

/** Thrown inside the fast path to roll its transaction back. */
class OpFailed extends Error {
  constructor(cause: unknown) {
    super('a write in the group failed', { cause });
  }
}

export interface BatchStats {
  readonly size: number;
  readonly seconds: number;
}

export class GroupCommit {
  readonly #maxBatch: number;
  readonly #onBatch: ((stats: BatchStats) => void) | undefined;
  #queue: Pending[] = [];
  #scheduled = false;
  #closed = false;
  readonly #runBatch: (batch: Pending[]) => Outcome;

  readonly #sync: (() => Promise<void>) | undefined;
  readonly #onFailure: (() => void) | undefined;
  readonly #onSync: ((seconds: number) => void) | undefined;
  readonly #onBroken: ((err: Error) => void) | undefined;
  /** The sync that makes the latest commit durable, until it settles. */
  #syncing: Promise<void> | undefined;
  /**
   * Set by the first failed sync (or commit that failed with an I/O error), for good. Its
   * commits are in the database yet may not be on the disk, and a later sync that reports
   * success proves nothing (the kernel may have dropped the pages it could not write), so from
   * then on nothing is acknowledged or shown as durable. PostgreSQL stops on a failed fsync for
   * the same reason; here the node stays up, not ready.
   */
  #broken: Error | undefined;

  constructor(
    db: Database,
    options: {
      maxBatch: number;
      onBatch?: (stats: BatchStats) => void;
      /** Makes a committed batch durable (when SQLite does not sync on commit itself). */
      sync?: () => Promise<void>;
      /** Seconds a committed batch waited for its sync (the disk's share of a write's latency). */
      onSync?: (seconds: number) => void;
      /** A batch's commit failed and was rolled back (for caches its writes touched). */
      onFailure?: () => void;
      /** The first sync, or a commit, failed on the disk: nothing will be acknowledged again (see #broken). Called once. */
      onBroken?: (err: Error) => void;
    },
  ) {
    this.#maxBatch = options.maxBatch;
    this.#onBatch = options.onBatch;
    this.#sync = options.sync;
    this.#onFailure = options.onFailure;
    this.#onSync = options.onSync;
    this.#onBroken = options.onBroken;
    // Fast path: the whole batch in one transaction, no savepoints. Ops rarely fail, so it is
    // almost always the only path; the first failure rolls everything back and leaves the
    // batch to the careful path below. Ops only compute from what they read, so a replay is safe.
    // An op's error that SQLite answered by rolling back the whole transaction (it may, after an
    // I/O error, a full disk or no memory), or any I/O error, is the batch's, not the op's: it
    // goes to #flushOnce as a failed commit, so the other ops are not run outside a transaction
    // and an I/O error breaks the store wherever it surfaced.
    const batchWide = (err: unknown) => !db.inTransaction || isIoError(err);
    const fast = db.transaction((batch: Pending[]): Outcome => {
      const results: unknown[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        try {
          results[i] = batch[i]!.op();
        } catch (err) {
          throw batchWide(err) ? err : new OpFailed(err);
        }
      }
      return { results, errors: [] };
    });
    // Careful path: the same, each op inside a SAVEPOINT (better-sqlite3 nests a transaction
    // that way), so a failing op rolls back only itself.
    const runOne = db.transaction((op: () => unknown) => op());
    const careful = db.transaction((batch: Pending[]): Outcome => {
      const results: unknown[] = new Array(batch.length);
      const errors: unknown[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        try {
          results[i] = runOne(batch[i]!.op);
        } catch (err) {
          if (batchWide(err)) throw err;
          errors[i] = opError(err);
        }
      }
      return { results, errors };
    });
    this.#runBatch = (batch) => {
      try {
        return fast.immediate(batch);
      } catch (err) {
        if (!(err instanceof OpFailed)) throw err;
        if (batch.length === 1) return { results: [], errors: [opError(err.cause)] };
        return careful.immediate(batch);
      }
    };
  }

  /** Run `op` inside the next group transaction; resolves after that transaction commits. */
  run<T>(op: () => T, timing?: WriteTiming): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    if (this.#broken) return Promise.reject(this.#brokenError());
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, timing, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // setImmediate, not a microtask: lets every request parsed in this I/O phase join the batch.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Commit whatever is queued now (used on close). */
  flushNow(): void {
    while (this.#queue.length > 0) this.#flushOnce();
  }

  close(): void {
    this.flushNow();
    this.#closed = true;
  }

  /**
   * Undefined when every commit so far is durable; otherwise resolves once it is. Rejects with
   * `unavailable` if that sync fails, or if one ever did. A later sync covers every commit
   * before it, so the latest one is enough.
   */
  untilSynced(): Promise<void> | undefined {
    if (this.#broken) return Promise.reject(this.#brokenError());
    return this.#syncing;
  }

  /** The disk error that ended durability (see #broken), if one did. */
  get broken(): Error | undefined {
    return this.#broken;
  }

  /** What writers and readers get once broken: `unavailable`, with the disk's error as cause. */
  #brokenError(): PorthouseError {
    const err = new PorthouseError(
      'unavailable',
      'The disk failed a write or a sync: this node stores nothing more until it is restarted.',
    );
    err.cause = this.#broken;
    return err;
  }

  get pending(): number {
    return this.#queue.length;
  }

  #flush(): void {
    this.#scheduled = false;
    this.flushNow();
  }

  #flushOnce(): void {
    const batch = this.#queue.length <= this.#maxBatch ? this.#queue : this.#queue.slice(0, this.#maxBatch);
    this.#queue = batch === this.#queue ? [] : this.#queue.slice(this.#maxBatch);
    // Queued before a sync failed: refused, not written, so nothing more reaches the log.
    if (this.#broken) {
      this.#refuse(batch);
      return;
    }
    const started = process.hrtime.bigint();
    let outcome: Outcome;
    try {
      outcome = this.#runBatch(batch);
    } catch (err) {
      // The batch failed as a whole and SQLite rolled it back. After an I/O error its log frames
      // may still be on disk (with `full`, a failed fsync comes after they were written), so its
      // outcome is unknown until a restart: clients retry with their idempotency key.
      this.#onFailure?.();
      if (isIoError(err)) {
        // A write or a sync SQLite made on commit failed (with `full`, its own fsync): the same
        // as a failed WAL sync, so the same rule (#broken).
        this.#break(err, batch);
        return;
      }
      for (const p of batch) p.reject(isDiskFull(err) ? diskFull(err) : err);
      return;
    }
    this.#onBatch?.({ size: batch.length, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    stamp(batch, 'committedAt');
    if (!this.#sync) {
      // SQLite synced on commit itself (`full`): committed is durable.
      stamp(batch, 'durableAt');
      settle(batch, outcome);
      return;
    }
    // Nothing is acknowledged before it is on disk; a failed sync fails the whole batch.
    const committed = process.hrtime.bigint();
    const synced = this.#sync();
    synced.then(
      () => {
        // An earlier batch's sync failed: its log frames may be missing, and recovery stops at
        // them, so this batch is no safer for its own sync having succeeded.
        if (this.#broken) {
          this.#refuse(batch);
          return;
        }
        this.#onSync?.(Number(process.hrtime.bigint() - committed) / 1e9);
        stamp(batch, 'durableAt');
        settle(batch, outcome);
      },
      (err) => this.#break(err, batch),
    );
    // What readers wait on: this sync, a failure reported as `unavailable`. Derived after the
    // handlers above, so #broken is set by the time it rejects; forgotten once settled.
    const durable = synced.then(
      () => {},
      () => Promise.reject(this.#brokenError()),
    );
    const forget = () => {
      if (this.#syncing === durable) this.#syncing = undefined;
    };
    durable.then(forget, forget);
    this.#syncing = durable;
  }

  /**
   * The disk failed `batch` (its sync, or its commit): broken for good by the first such error
   * (see #broken), the batch refused, and then, the first time only, the failure reported.
   */
  #break(err: unknown, batch: Pending[]): void {
    const first = !this.#broken;
    this.#broken ??= err instanceof Error ? err : new Error(String(err));
    this.#refuse(batch);
    if (!first) return;
    try {
      this.#onBroken?.(this.#broken);
    } catch {
      // Reporting is best effort; the writes are already refused.
    }
  }

  #refuse(batch: Pending[]): void {
    for (const p of batch) p.reject(this.#brokenError());
  }
}

const sqliteCode = (err: unknown) => String((err as { code?: unknown } | null)?.code ?? '');
/** SQLITE_IOERR and its extended codes (SQLITE_IOERR_FSYNC, _WRITE, …): the disk failed an operation. */
const isIoError = (err: unknown) => sqliteCode(err).startsWith('SQLITE_IOERR');
/** SQLITE_FULL: no room for the transaction; SQLite rolled it back cleanly, so later writes may succeed. */
const isDiskFull = (err: unknown) => sqliteCode(err) === 'SQLITE_FULL';
/** One op's own failure, as its caller gets it: a full disk is `unavailable`, not a bug. */
const opError = (err: unknown) => (isDiskFull(err) ? diskFull(err) : (err ?? new Error('write failed')));

function diskFull(cause: unknown): PorthouseError {
  const err = new PorthouseError('unavailable', 'The disk is full: nothing was stored. Retry later.');
  err.cause = cause;
  return err;
}

/** The time of a batch's commit or sync, for the writes in it that are traced. */
function stamp(batch: Pending[], what: keyof WriteTiming): void {
  let at: number | undefined;
  for (const p of batch)
    if (p.timing) {
      at ??= preciseNow();
      p.timing[what] = at;
    }
}

function settle(batch: Pending[], outcome: Outcome): void {
  for (let i = 0; i < batch.length; i++) {
    const p = batch[i]!;
    if (outcome.errors[i] !== undefined) p.reject(outcome.errors[i]);
    else p.resolve(outcome.results[i]);
  }
}
