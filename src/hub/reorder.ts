// Puts a room's messages back in seq order before fan-out. With several nodes they reach a node
// out of order as a matter of course: its own at once, another node's a moment later through
// Redis. A message ahead of its turn is held up to `wait` ms for the ones before it, so
// subscriptions stay live instead of each reading the gap from the store; if the missing ones
// do not come (a lost bus message), everything held is released and subscriptions fill the gap
// from the store as before. Events other than messages keep their place behind held messages.
// A busy node's timers run late, and so does its reading of Redis: before giving up, the wait
// lets the event loop read whatever has arrived meanwhile, so a message that is only as late as
// the node itself is not taken for lost.
import type { InRoomEvent } from '../bus/bus.js';

interface Queue {
  /** The seq expected next. */
  next: number;
  /** Events waiting behind a missing message, in arrival order. */
  held: InRoomEvent[];
  /** The wait, then the last look at what has arrived (after the event loop's next poll). */
  timer: NodeJS.Timeout | undefined;
  lastLook: NodeJS.Immediate | undefined;
  /** When the oldest message still held began to wait (performance.now()). */
  since: number;
}

function stop(q: Queue): void {
  clearTimeout(q.timer);
  clearImmediate(q.lastLook);
  q.timer = undefined;
  q.lastLook = undefined;
}

const seqOf = (e: InRoomEvent): number | undefined => (e.type === 'msg' ? e.message.seq : undefined);

export class Reorder {
  readonly #rooms = new Map<string, Queue>();

  constructor(
    /** Longest a message waits for the ones before it (ms); 0 releases at once. */
    private readonly wait: number,
    private readonly release: (event: InRoomEvent) => void,
    /** How long a hold lasted (ms), and whether the wait ran out; for metrics. */
    private readonly onHeld?: (ms: number, timedOut: boolean) => void,
  ) {}

  /** Hand `event` on now, or as soon as the messages before it arrived (at most `wait` ms). */
  push(event: InRoomEvent): void {
    const q = this.#rooms.get(event.room);
    const seq = seqOf(event);
    if (q && q.held.length > 0) {
      q.held.push(event);
      if (seq === q.next) this.#drain(q);
      return;
    }
    if (seq === undefined) {
      this.release(event);
      return;
    }
    if (!q || this.wait === 0) {
      // The first message seen here sets the order; earlier ones that come later are late.
      this.#rooms.set(event.room, {
        next: seq + 1,
        held: [],
        timer: undefined,
        lastLook: undefined,
        since: 0,
      });
      this.release(event);
      return;
    }
    if (seq <= q.next) {
      if (seq === q.next) q.next++;
      this.release(event);
      return;
    }
    q.held.push(event);
    q.since = performance.now();
    q.timer = setTimeout(() => {
      q.timer = undefined;
      // Timers run before the event loop polls its sockets: give up only after that poll.
      q.lastLook = setImmediate(() => {
        q.lastLook = undefined;
        this.onHeld?.(performance.now() - q.since, true);
        this.#flush(q);
      });
    }, this.wait);
    q.timer.unref();
  }

  /** Nobody here follows the room any more, or it must be re-read: release and forget it. */
  forget(room: string): void {
    const q = this.#rooms.get(room);
    if (!q) return;
    this.#flush(q);
    this.#rooms.delete(room);
  }

  close(): void {
    for (const q of this.#rooms.values()) stop(q);
    this.#rooms.clear();
  }

  get held(): number {
    let n = 0;
    for (const q of this.#rooms.values()) n += q.held.length;
    return n;
  }

  /** The missing message came: release the run it completes, keep waiting for any other hole. */
  #drain(q: Queue): void {
    const seqs = new Set<number>();
    for (const e of q.held) {
      const s = seqOf(e);
      if (s !== undefined) seqs.add(s);
    }
    while (seqs.has(q.next)) q.next++;
    const messages: InRoomEvent[] = [];
    const others: InRoomEvent[] = [];
    const rest: InRoomEvent[] = [];
    let blocked = false;
    for (const e of q.held) {
      const s = seqOf(e);
      // Anything that arrived behind a message still missing keeps waiting behind it.
      if (s !== undefined && s >= q.next) blocked = true;
      if (blocked && (s === undefined || s >= q.next)) rest.push(e);
      else (s === undefined ? others : messages).push(e);
    }
    q.held = rest;
    if (rest.length === 0) {
      stop(q);
      this.onHeld?.(performance.now() - q.since, false);
    }
    this.#releaseInOrder(messages, others);
  }

  /** Messages in seq order first, so an edit or deletion never overtakes its message. */
  #releaseInOrder(messages: InRoomEvent[], others: InRoomEvent[]): void {
    messages.sort((a, b) => seqOf(a)! - seqOf(b)!);
    for (const e of messages) this.release(e);
    for (const e of others) this.release(e);
  }

  /** Waited long enough: release everything held in seq order; subscriptions read any gap. */
  #flush(q: Queue): void {
    stop(q);
    const held = q.held;
    q.held = [];
    let top = q.next - 1;
    for (const e of held) top = Math.max(top, seqOf(e) ?? top);
    q.next = top + 1;
    this.#releaseInOrder(
      held.filter((e) => seqOf(e) !== undefined),
      held.filter((e) => seqOf(e) === undefined),
    );
  }
}
