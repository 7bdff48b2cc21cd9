// What a connection has yet to send, shared by the stream doors (WebSocket, SSE, TCP): frames
// queued in one event-loop turn go out in one write (a connection that was idle gets them at the
// end of the callback that queued them), and a client whose unsent bytes pass the limit is
// reported as a slow consumer instead of growing the server's memory.
import { type Journey, preciseNow } from '../core/journey.js';

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
  /** The door's name in a journey's fan-out (`ws`, `sse`, `tcp`, `irc`). */
  readonly door?: string;
}

/**
 * A connection written to less recently than this is idle: what it is sent goes out as soon as
 * the callback that sent it has finished (its promise chains included), so a lone message does
 * not wait behind the rest of the turn's I/O. Everything one callback releases (a whole group
 * commit, a whole bus batch) still shares that write: writing the first frame at once and the
 * rest at the turn's end would cost a busy room two system calls a connection per commit. Under
 * a steady stream every connection is written each turn or so, and waits for the turn's one write.
 */
export const IDLE_MS = 5;

/**
 * How long a connection being closed is kept for its peer to take the last bytes (and answer a
 * WebSocket close) before it is dropped; a slow consumer gets `slowConsumerGrace` instead.
 */
export const CLOSE_WAIT_MS = 2000;

/**
 * Where a write of several frames is put together. A socket that took the bytes at once (nothing
 * left in its buffer afterwards) holds no reference to them, so the same memory serves the next
 * connection; a write that did not go out whole keeps its slice, and the next one starts after it.
 * One Buffer.concat a connection a turn would allocate outside the JS heap at the rate of the
 * whole fan-out, and that rate alone sets off full garbage collections.
 */
const SCRATCH_BYTES = 65_536;
let scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
let scratchUsed = 0;

function gather(chunks: readonly Buffer[], bytes: number): Buffer {
  if (scratch.length - scratchUsed < bytes) {
    scratch = Buffer.allocUnsafeSlow(Math.max(SCRATCH_BYTES, bytes));
    scratchUsed = 0;
  }
  const out = scratch.subarray(scratchUsed, scratchUsed + bytes);
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(out, at);
  return out;
}

/** Connections with frames for the turn's end (setImmediate). */
const dirty = new Set<Outbox>();
/** Idle connections with frames for the end of the current callback (process.nextTick). */
const prompt = new Set<Outbox>();
let scheduled = false;
/** When the current turn's first frame was queued (one clock read a turn). */
let turnStartedAt = 0;

/**
 * Journeys queued this turn, once per door. A turn's writes are timed around its passes (the
 * prompt one, then the turn's end), from the first traced connection's write to the last
 * one's, so no delivery pays a clock read of its own.
 */
let pass = 1;
const touched: Journey[] = [];
const touchedDoors: string[] = [];

function writePass(boxes: Set<Outbox>, endOfTurn: boolean): void {
  // Read before the first traced connection's write and once after the pass: two clock reads
  // a pass, however many connections it writes.
  let first = 0;
  for (const box of boxes) {
    if (first === 0 && touched.length > 0 && box.traced) first = preciseNow();
    box.flush();
  }
  boxes.clear();
  if (first !== 0) {
    const last = preciseNow();
    for (let i = 0; i < touched.length; i++) touched[i]!.written(touchedDoors[i]!, first, last);
  }
  if (endOfTurn && touched.length > 0) {
    touched.length = 0;
    touchedDoors.length = 0;
    pass++;
  }
}

function flushAll(): void {
  scheduled = false;
  writePass(dirty, true);
}

function flushPrompt(): void {
  writePass(prompt, false);
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

function schedulePrompt(box: Outbox): void {
  // nextTick runs once the microtask queue is empty: after every continuation of this callback.
  if (prompt.size === 0) process.nextTick(flushPrompt);
  prompt.add(box);
}

export class Outbox {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #overflowed = false;
  /** Something queued here belongs to a journey: its write is timed. */
  traced = false;
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

  push(chunk: Buffer, journey?: Journey): void {
    if (this.#overflowed || this.stream.destroyed) return;
    if (journey && this.options.door) {
      this.traced = true;
      if (journey.queued(this.options.door, chunk.length, pass)) {
        touched.push(journey);
        touchedDoors.push(this.options.door);
      }
    }
    schedule(this);
    if (
      this.#chunks.length === 0 &&
      turnStartedAt - this.#lastWriteAt > (this.options.idleMs ?? IDLE_MS) &&
      this.stream.writableLength === 0
    )
      schedulePrompt(this);
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.unsent > this.options.limit) {
      this.#overflowed = true;
      this.#chunks = [];
      this.#bytes = 0;
      this.options.onOverflow();
    }
  }

  /** Write what is queued now (normally called by a scheduler above). */
  flush(): void {
    const chunks = this.#chunks;
    this.traced = false;
    if (chunks.length === 0) return;
    this.#chunks = [];
    const bytes = this.#bytes;
    this.#bytes = 0;
    if (this.stream.destroyed) return;
    this.#lastWriteAt = turnStartedAt;
    // One buffer, one write: copying a few KB is cheaper than a stream write call per frame.
    if (chunks.length === 1) this.stream.write(chunks[0]!);
    else {
      this.stream.write(gather(chunks, bytes));
      if (this.stream.writableLength > 0) scratchUsed += bytes;
    }
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
