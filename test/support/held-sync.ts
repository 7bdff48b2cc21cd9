// A SQLite store in the default `fdatasync` mode whose WAL syncs can be held on purpose, to see
// what readers get in the moment between a commit and its sync.
import { SqliteStore } from '../../src/store/store-sqlite.js';

export interface HeldSync {
  readonly store: SqliteStore;
  /** From now on, each sync waits until `release` (or fails, with `fail`). */
  hold(): void;
  /** Resolves once a held sync is waiting, i.e. a write has committed and is not yet durable. */
  waiting(): Promise<void>;
  release(): void;
  /** The held syncs fail instead, as a disk error would make them. */
  fail(err: Error): void;
}

export function heldSyncStore(dir: string): HeldSync {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  let refuse: ((err: Error) => void) | undefined;
  let entered: (() => void) | undefined;
  let waiting = new Promise<void>((r) => {
    entered = r;
  });
  const store = new SqliteStore({
    dir,
    synchronous: 'fdatasync',
    maxBatch: 512,
    wrapSync: async (sync) => {
      if (gate) {
        entered?.();
        await gate;
      }
      return sync();
    },
  });
  const reset = () => {
    gate = undefined;
    waiting = new Promise<void>((r) => {
      entered = r;
    });
  };
  return {
    store,
    hold() {
      gate = new Promise<void>((resolve, reject) => {
        open = resolve;
        refuse = reject;
      });
      gate.catch(() => {});
    },
    waiting: () => waiting,
    release() {
      open?.();
      reset();
    },
    fail(err) {
      refuse?.(err);
      reset();
    },
  };
}
