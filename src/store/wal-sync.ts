// Makes SQLite's write-ahead log durable off the event loop. With `synchronous = NORMAL` a
// commit writes the WAL without fsync; this syncs it with fdatasync on libuv's thread pool, and
// every write waits for a sync that began after its commit before it is acknowledged. Syncs are
// shared: whoever commits while one is running waits for the next, so one fdatasync covers
// every commit of that moment (group commit at the disk), and the event loop keeps serving
// reads and fan-out while the disk works.
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';

export class WalSync {
  readonly #path: string;
  #file: Promise<FileHandle> | undefined;
  #inFlight: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  syncs = 0;

  constructor(databasePath: string) {
    this.#path = `${databasePath}-wal`;
  }

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (!this.#inFlight) return this.#start();
    // The running sync may have begun before the caller's commit: the next one covers it.
    this.#next ??= this.#inFlight.then(
      () => this.#chain(),
      () => this.#chain(),
    );
    return this.#next;
  }

  /** After the last sync: close the file. */
  async close(): Promise<void> {
    await Promise.allSettled([this.#inFlight, this.#next]);
    const file = this.#file;
    this.#file = undefined;
    // A file that never opened (its directory's sync failed) has nothing to close.
    if (file)
      await file.then(
        (f) => f.close(),
        () => {},
      );
  }

  #chain(): Promise<void> {
    this.#next = undefined;
    return this.#start();
  }

  #start(): Promise<void> {
    const run = (async () => {
      this.#file ??= openDurably(this.#path);
      await (await this.#file).datasync();
      this.syncs++;
    })();
    const settled = run.finally(() => {
      if (this.#inFlight === settled) this.#inFlight = undefined;
    });
    this.#inFlight = settled;
    return settled;
  }
}

/** Open the WAL for syncing, and sync its directory once so the file's own entry is durable. */
async function openDurably(path: string): Promise<FileHandle> {
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return open(path, 'r');
}
