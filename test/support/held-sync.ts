// A SQLite store in the default `fdatasync` mode whose WAL syncs can be held on purpose, to see
// what readers get in the moment between a commit and its sync.
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/store-sqlite.js';

export interface HeldSync {
  readonly store: SqliteStore;
  /** From now on, each sync waits until `release` (or fails, with `fail`). */
  hold(): void;
  /** Resolves once a held sync is waiting, i.e. a write has committed and is not yet durable. */
  committed(): Promise<void>;
  /** Resolves once a reader has asked the store to wait for durability and was told to. */
  readerWaiting(): Promise<void>;
  release(): void;
  /** The held syncs fail instead, as a disk error would make them. */
  fail(err: Error): void;
}

const signal = () => {
  let fire!: () => void;
  const fired = new Promise<void>((r) => {
    fire = r;
  });
  return { fire, fired };
};

export function heldSyncStore(dir: string, options: Partial<SqliteStoreOptions> = {}): HeldSync {
  let gate: { promise: Promise<void>; open: () => void; refuse: (err: Error) => void } | undefined;
  let committed = signal();
  let readerWaiting = signal();
  const store = new SqliteStore({
    dir,
    synchronous: 'fdatasync',
    maxBatch: 512,
    ...options,
    wrapSync: async (sync) => {
      if (gate) {
        committed.fire();
        await gate.promise;
      }
      return sync();
    },
  });
  const untilDurable = store.untilDurable.bind(store);
  store.untilDurable = () => {
    const pending = untilDurable();
    if (pending) readerWaiting.fire();
    return pending;
  };
  const reset = () => {
    gate = undefined;
    committed = signal();
    readerWaiting = signal();
  };
  return {
    store,
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
    readerWaiting: () => readerWaiting.fired,
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
