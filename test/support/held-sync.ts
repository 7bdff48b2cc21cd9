// WAL syncs (SQLite's default `fdatasync` mode) that can be held or failed on purpose, to see what
// readers get in the moment between a commit and its sync, and what a node does when its disk fails.
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/store-sqlite.js';
import { signal } from './signal.js';

export interface SyncGate {
  /** Pass as the store's (or the node's) `wrapSync`. */
  readonly wrapSync: NonNullable<SqliteStoreOptions['wrapSync']>;
  /** From now on, each sync waits until `release` (or fails, with `fail`). */
  hold(): void;
  /** Resolves once a held sync is waiting, i.e. a write has committed and is not yet durable. */
  committed(): Promise<void>;
  release(): void;
  /** The held syncs fail instead, as a disk error would make them. */
  fail(err: Error): void;
}

export interface HeldSync extends Omit<SyncGate, 'wrapSync'> {
  readonly store: SqliteStore;
  /** Resolves once a reader has asked the store to wait for durability and was told to. */
  readerWaiting(): Promise<void>;
}

export function syncGate(): SyncGate {
  let gate: { promise: Promise<void>; open: () => void; refuse: (err: Error) => void } | undefined;
  let committed = signal();
  const reset = () => {
    gate = undefined;
    committed = signal();
  };
  return {
    wrapSync: async (sync) => {
      if (gate) {
        committed.fire();
        await gate.promise;
      }
      return sync();
    },
    hold() {
      if (gate) return;
      let open!: () => void;
      let refuse!: (err: Error) => void;
      const promise = new Promise<void>((resolve, reject) => {
        open = resolve;
        refuse = reject;
      });
      promise.catch(() => {});
      gate = { promise, open, refuse };
    },
    committed: () => committed.fired,
    release() {
      gate?.open();
      reset();
    },
    fail(err) {
      gate?.refuse(err);
      reset();
    },
  };
}

export function heldSyncStore(dir: string, options: Partial<SqliteStoreOptions> = {}): HeldSync {
  const gate = syncGate();
  let readerWaiting = signal();
  const store = new SqliteStore({
    dir,
    synchronous: 'fdatasync',
    maxBatch: 512,
    ...options,
    wrapSync: gate.wrapSync,
  });
  const untilDurable = store.untilDurable.bind(store);
  store.untilDurable = () => {
    const pending = untilDurable();
    if (pending) readerWaiting.fire();
    return pending;
  };
  return {
    store,
    hold: () => gate.hold(),
    committed: () => gate.committed(),
    readerWaiting: () => readerWaiting.fired,
    release() {
      gate.release();
      readerWaiting = signal();
    },
    fail(err) {
      gate.fail(err);
      readerWaiting = signal();
    },
  };
}
