// Another node's events of a room, held while this node is storing messages in that room, so
// both reach the room's subscribers here in one fan-out, and each connection one socket write.
// Two nodes writing one room take its seqs in turns: without the hold, every connection would
// be written once for this node's group commit and once more for the other's, which arrives a
// moment apart through Redis. The hold ends as soon as one of the writes in flight is published
// (the rest of its group commit with it), or after `wait` ms, whichever comes first; nothing is
// dropped or reordered: a room's held events go out in the order they came. Events older than
// this node's own last message are never held: the hub is holding that message for them. (The
// control channel, which carries room and member changes, was never ordered with a room's
// channel; the hold can only widen that gap by `wait`.)
import type { RoomEvent } from './bus.js';

interface Held {
  readonly events: RoomEvent[];
  readonly timer: NodeJS.Timeout;
}

export class MergeHold {
  /** room → writes in flight on this node (a count: each ends once). */
  readonly #writing = new Map<string, number>();
  /** room → the seq of the last message this node published there (the rooms written last). */
  readonly #published = new Map<string, number>();
  /** room → other nodes' events waiting for one of those writes. */
  readonly #held = new Map<string, Held>();
  /** Rooms whose hold ends once the current callback (and its microtasks) has run. */
  readonly #ending = new Set<string>();

  constructor(
    /** Longest another node's events wait (ms); 0 hands them on at once. */
    private readonly wait: number,
    private readonly deliver: (events: readonly RoomEvent[]) => void,
  ) {}

  /** This node begins storing a message in `room`; call the result once it was published or failed. */
  writing(room: string): () => void {
    if (this.wait === 0) return noop;
    this.#writing.set(room, (this.#writing.get(room) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.#writing.get(room) ?? 1) - 1;
      if (left > 0) this.#writing.set(room, left);
      else this.#writing.delete(room);
      // The rest of its group commit is published in the same callback: release after all of it.
      if (this.#held.has(room) && !this.#ending.has(room)) {
        if (this.#ending.size === 0) process.nextTick(() => this.#endAll());
        this.#ending.add(room);
      }
    };
  }

  /** This node published `event` (its own). */
  published(event: RoomEvent): void {
    if (this.wait === 0) return;
    if (event.type === 'room_deleted') this.#published.delete(event.room);
    if (event.type !== 'msg') return;
    // Kept past the write that published it (the next write may begin before the other node's
    // earlier message arrives), for the rooms written most recently. A node stores one group
    // commit at a time, so its own seqs of a room rise.
    this.#published.delete(event.room);
    this.#published.set(event.room, event.message.seq);
    if (this.#published.size > PUBLISHED_ROOMS) this.#published.delete(this.#published.keys().next().value!);
  }

  /** Events of `room` from another node, in the order that node published them. */
  offer(room: string, events: readonly RoomEvent[]): void {
    const first = events.find((e) => e.type === 'msg');
    const awaited = first?.type === 'msg' && first.message.seq < (this.#published.get(room) ?? 0);
    const held = this.#held.get(room);
    if (held) {
      held.events.push(...events);
      if (awaited) this.#end(room);
      return;
    }
    if (awaited || !this.#writing.has(room)) {
      this.deliver(events);
      return;
    }
    const timer = setTimeout(() => this.#end(room), this.wait);
    timer.unref();
    this.#held.set(room, { events: [...events], timer });
  }

  /** Events held now (all rooms). */
  get held(): number {
    let n = 0;
    for (const h of this.#held.values()) n += h.events.length;
    return n;
  }

  /** Hand on everything held (a resync, or closing). */
  flush(): void {
    for (const room of [...this.#held.keys()]) this.#end(room);
  }

  /** Forget everything held and every write in flight, delivering nothing (the bus is closed). */
  close(): void {
    for (const h of this.#held.values()) clearTimeout(h.timer);
    this.#held.clear();
    this.#writing.clear();
    this.#published.clear();
    this.#ending.clear();
  }

  #endAll(): void {
    const rooms = [...this.#ending];
    this.#ending.clear();
    for (const room of rooms) this.#end(room);
  }

  #end(room: string): void {
    const held = this.#held.get(room);
    if (!held) return;
    clearTimeout(held.timer);
    this.#held.delete(room);
    this.deliver(held.events);
  }
}

const noop = () => {};

/** Rooms whose last own seq is remembered (the oldest written is forgotten first). */
const PUBLISHED_ROOMS = 10_000;
