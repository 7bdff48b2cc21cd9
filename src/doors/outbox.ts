// What a connection has yet to send, shared by the stream doors (WebSocket, SSE, TCP): frames
// queued in one event-loop turn go out in one write, and a client whose unsent bytes
// pass the limit is reported as a slow consumer instead of growing the server's memory.

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
  /** Bytes and frames handed to the socket, for metrics. */
  readonly onWrite?: (bytes: number, frames: number) => void;
}

const dirty = new Set<Outbox>();
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  for (const box of dirty) box.flush();
  dirty.clear();
}

export class Outbox {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #overflowed = false;

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
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.unsent > this.options.limit) {
      this.#overflowed = true;
      this.#chunks = [];
      this.#bytes = 0;
      this.options.onOverflow();
      return;
    }
    dirty.add(this);
    if (!scheduled) {
      scheduled = true;
      // setImmediate: everything published in this turn (a whole group commit) shares the write.
      setImmediate(flushAll);
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
