// One connection's subscription to one room: it delivers messages in seq order, exactly once.
// While it replays from the store (a resume, or a gap seen on the bus) live events wait in a
// buffer; afterwards the buffer is replayed with anything already sent dropped by seq.
import type { ErrorCode } from '../core/errors.js';
import type { Actor } from '../core/types.js';
import type { Outgoing } from './outgoing.js';

/** A connection as the hub sees it: who is on it and how to hand it a frame. */
export interface Subscriber {
  readonly actor: Actor;
  /** Queue a frame for this connection; the door coalesces and writes. */
  send(out: Outgoing): void;
  /**
   * Resolves once the connection's outgoing buffer is low enough to take more, so a long replay
   * paces itself by the client's reading instead of filling memory. Undefined: no need to wait.
   */
  drained?(): Promise<void> | undefined;
  /** End the connection with this error (its user was deleted); the door says so its own way. */
  end?(code: ErrorCode, message: string): void;
}

export class Subscription {
  /** Highest seq delivered (or known to the client through `since`). */
  lastSeq = 0;
  /** Null while live; the events that arrived during a replay otherwise. */
  pending: Outgoing[] | null = [];
  closed = false;

  constructor(
    readonly subscriber: Subscriber,
    readonly room: string,
  ) {}

  get live(): boolean {
    return this.pending === null;
  }

  /**
   * Offer a live event. Returns true when a message arrived ahead of its turn (a seq was
   * skipped), so the caller must fill the gap from the store.
   */
  offer(out: Outgoing): boolean {
    if (this.closed) return false;
    if (this.pending !== null) {
      this.pending.push(out);
      return false;
    }
    const seq = out.seq;
    if (seq === undefined) {
      this.subscriber.send(out);
      return false;
    }
    if (seq <= this.lastSeq) return false;
    if (seq === this.lastSeq + 1) {
      this.lastSeq = seq;
      this.subscriber.send(out);
      return false;
    }
    this.pending = [out];
    return true;
  }

  /**
   * Go back to replaying (live events are buffered again) so the store can fill what the bus may
   * have missed. False when already replaying.
   */
  rewind(): boolean {
    if (this.closed || this.pending !== null) return false;
    this.pending = [];
    return true;
  }

  /** Deliver a stored message during a replay; anything at or below lastSeq is a duplicate. */
  replayed(seq: number, out: Outgoing): void {
    if (this.closed || seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.subscriber.send(out);
  }

  /**
   * End a replay: hand over the buffered events in arrival order. Returns true if a message in
   * the buffer is still ahead of lastSeq + 1, i.e. another page must be read first (the
   * remaining events stay buffered).
   */
  drainPending(): boolean {
    const pending = this.pending;
    if (pending === null) return false;
    for (let i = 0; i < pending.length; i++) {
      const out = pending[i]!;
      const seq = out.seq;
      if (seq !== undefined && seq > this.lastSeq + 1) {
        this.pending = pending.slice(i);
        return true;
      }
      if (this.closed) break;
      if (seq === undefined) this.subscriber.send(out);
      else if (seq > this.lastSeq) {
        this.lastSeq = seq;
        this.subscriber.send(out);
      }
    }
    this.pending = null;
    return false;
  }
}
