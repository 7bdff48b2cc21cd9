// What a connection has yet to send, shared by the stream doors (WebSocket, SSE, TCP): frames
// queued in one event-loop turn go out in one write (a connection that was idle gets its first
// one at once), and a client whose unsent bytes pass the limit is reported as a slow consumer
// instead of growing the server's memory.

/** The part of a net.Socket an Outbox needs. */
export interface OutboxStream {
  readonly writableLength: number;
  readonly destroyed: boolean;
  write(chunk: Buffer): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

export interface OutboxOptions {
  /** Unsent bytes (queued here plus buffered by the socket) that make a slow consumer. */
  readonly limit: number;
  /** Called once when the limit is passed; the door closes the connection. */
  readonly onOverflow: () => void;
  /** How long unwritten makes the connection idle (default IDLE_MS). */
  readonly idleMs?: number;
  /** Bytes and frames handed to the socket, for metrics. */
  readonly onWrite?: (bytes: number, frames: number) => void;
}

/**
 * A connection written to less recently than this is idle: its first frame of a turn goes out at
 * once, so a lone message reaches its first recipients while the fan-out to the others is still
 * running. Under a steady stream every connection is written each turn or so, and everything
 * waits for the turn's one write (one syscall a connection a turn, not two).
 */
export const IDLE_MS = 5;

/**
 * How long a connection being closed is kept for its peer to take the last bytes (and answer a
 * WebSocket close) before it is dropped; a slow consumer gets `slowConsumerGrace` instead.
 */
export const CLOSE_WAIT_MS = 2000;

const dirty = new Set<Outbox>();
let scheduled = false;
/** When the current turn's first frame was queued (one clock read a turn). */
let turnStartedAt = 0;

function flushAll(): void {
  scheduled = false;
  for (const box of dirty) box.flush();
  dirty.clear();
}

function schedule(box: Outbox): void {
  dirty.add(box);
  if (!scheduled) {
    scheduled = true;
    turnStartedAt = performance.now();
    // setImmediate: everything published in this turn (a whole group commit) shares the write.
    setImmediate(flushAll);
  }
}

export class Outbox {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #overflowed = false;
  /** When this connection was last written to (a turn's start). */
  #lastWriteAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stream: OutboxStream,
    private readonly options: OutboxOptions,
  ) {}

  /** Bytes not yet taken by the kernel. */
  get unsent(): number {
    return this.#bytes + this.stream.writableLength;
  }

  get overflowed(): boolean {
    return this.#overflowed;
  }

  push(chunk: Buffer): void {
    if (this.#overflowed || this.stream.destroyed) return;
    schedule(this);
    if (
      this.#chunks.length === 0 &&
      turnStartedAt - this.#lastWriteAt > (this.options.idleMs ?? IDLE_MS) &&
      this.stream.writableLength === 0 &&
      chunk.length <= this.options.limit
    ) {
      this.#lastWriteAt = turnStartedAt;
      this.stream.write(chunk);
      this.options.onWrite?.(chunk.length, 1);
    } else {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
    }
    if (this.unsent > this.options.limit) {
      this.#overflowed = true;
      this.#chunks = [];
      this.#bytes = 0;
      this.options.onOverflow();
    }
  }

  /** Write what is queued now (normally called by the turn's scheduler). */
  flush(): void {
    const chunks = this.#chunks;
    if (chunks.length === 0) return;
    this.#chunks = [];
    const bytes = this.#bytes;
    this.#bytes = 0;
    if (this.stream.destroyed) return;
    this.#lastWriteAt = turnStartedAt;
    // One buffer, one write: copying a few KB is cheaper than a stream write call per frame.
    this.stream.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes));
    this.options.onWrite?.(bytes, chunks.length);
  }

  /**
   * Undefined when there is room for more; otherwise resolves once the socket has drained (or
   * closed), so a long replay waits for the reader.
   */
  drained(): Promise<void> | undefined {
    if (this.unsent < this.options.limit / 2 || this.stream.destroyed) return undefined;
    this.flush();
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.once('drain', done);
      this.stream.once('close', done);
    });
  }
}
