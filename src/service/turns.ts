// One connection's writes in the order they arrived. Checks before a write (access, role) are
// asynchronous and, on a database spoken to over a pool, may finish out of order; a client that
// sends A then B must still see A stored first. Each write takes a turn when it arrives and
// hands its message to the store only after the turn before it did (not after it committed, so
// the writes of one connection still share group commits).

export interface Turn {
  /** Resolves once every earlier turn has handed its write to the store, or given up. */
  readonly ready: Promise<void>;
  /** This turn's write is queued in the store (or failed before): the next may go. Idempotent. */
  leave(): void;
}

export class Turns {
  #tail: Promise<void> = Promise.resolve();

  take(): Turn {
    const ready = this.#tail;
    let leave!: () => void;
    // A turn that gives up early still waits for the turns before it, so a later write cannot
    // overtake an earlier one that is still being checked.
    this.#tail = new Promise<void>((resolve) => {
      leave = () => void ready.then(resolve);
    });
    return { ready, leave };
  }
}
