// A message's journey through one node: the door it came in by and its bytes on the wire, then
// the time of each stage (decoded, committed, durable, acknowledged, published) and, per door,
// how many recipients it was handed to, the bytes each got and when the first and last of
// those writes happened. Kept for the most recent messages of the most recent rooms, bounded.

/** Milliseconds since the epoch with sub-millisecond precision (the monotonic clock's). */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

export type JourneyStage = 'received' | 'decoded' | 'stored' | 'durable' | 'acked' | 'published';
export const JOURNEY_STAGES: readonly JourneyStage[] = [
  'received',
  'decoded',
  'stored',
  'durable',
  'acked',
  'published',
];

/** Where a store puts the times of one write (commit, then the sync that made it durable). */
export interface WriteTiming {
  committedAt?: number;
  durableAt?: number;
}

export interface JourneyIngress {
  readonly door: string;
  /** The message's bytes as they arrived, with that door's framing (see docs/layers.md). */
  readonly wireBytes: number;
  /** What those bytes were made of, for a person: "HTTP request line, headers and body". */
  readonly framing: string;
  readonly receivedAt: number;
}

export interface DoorFanout {
  recipients: number;
  /** Bytes one recipient was written (this door's framing of the message). */
  bytesPerRecipient: number;
  queuedAt: number;
  firstWriteAt: number | undefined;
  lastWriteAt: number | undefined;
  /** The last write pass it was queued in (see queued). */
  pass: number;
}

export class Journey {
  readonly stages: Partial<Record<JourneyStage, number>> = {};
  readonly fanout = new Map<string, DoorFanout>();
  /** The store's times for its write (commit, sync). */
  readonly timing: WriteTiming = {};
  seq = 0;
  /** The door last queued to, and its entry. */
  #door: string | undefined;
  #entry: DoorFanout | undefined;

  constructor(
    readonly room: string,
    readonly ingress: JourneyIngress | undefined,
  ) {
    if (ingress) this.stages.received = ingress.receivedAt;
  }

  mark(stage: JourneyStage, at = preciseNow()): void {
    this.stages[stage] ??= at;
  }

  /** The write is back: its commit and sync times as the store saw them. */
  stored(at = preciseNow()): void {
    this.mark('stored', this.timing.committedAt ?? at);
    this.mark('durable', this.timing.durableAt ?? at);
  }

  /**
   * One recipient on `door` was queued `bytes` in write pass `pass`. True for the first of this
   * door in that pass: the caller notes the journey once, and tells it when the pass is written.
   * The clock is read for the door's first recipient only.
   */
  queued(door: string, bytes: number, pass = 0): boolean {
    // Called once per recipient: the last door's entry saves a map lookup on all but the first.
    let f = door === this.#door ? this.#entry : this.fanout.get(door);
    if (f) f.recipients++;
    else {
      f = {
        recipients: 1,
        bytesPerRecipient: bytes,
        queuedAt: preciseNow(),
        firstWriteAt: undefined,
        lastWriteAt: undefined,
        pass: 0,
      };
      this.fanout.set(door, f);
    }
    this.#door = door;
    this.#entry = f;
    if (f.pass === pass) return false;
    f.pass = pass;
    return true;
  }

  /** Writes that carried this message to recipients on `door` went to the kernel, from `first` to `last`. */
  written(door: string, first: number, last = first): void {
    const f = door === this.#door ? this.#entry : this.fanout.get(door);
    if (!f) return;
    if (f.firstWriteAt === undefined || first < f.firstWriteAt) f.firstWriteAt = first;
    if (f.lastWriteAt === undefined || last > f.lastWriteAt) f.lastWriteAt = last;
  }
}

export interface JourneyLogOptions {
  /** Journeys kept per room, the newest. */
  readonly perRoom: number;
  /** Rooms kept, the most recently written. */
  readonly rooms: number;
}

/** The journeys of the newest messages of the newest rooms: memory bounded by perRoom × rooms. */
export class JourneyLog {
  /** room → seq → journey, both in insertion order (oldest first), so the oldest go first. */
  readonly #rooms = new Map<string, Map<number, Journey>>();

  constructor(readonly options: JourneyLogOptions) {}

  get enabled(): boolean {
    return this.options.perRoom > 0 && this.options.rooms > 0;
  }

  /** Keep `journey` under its seq (set once stored, or a remote message's seq). */
  keep(journey: Journey): void {
    if (!this.enabled || journey.seq < 1) return;
    let room = this.#rooms.get(journey.room);
    if (room) {
      // Most recently written last.
      this.#rooms.delete(journey.room);
    } else {
      room = new Map();
      if (this.#rooms.size >= this.options.rooms) this.#rooms.delete(this.#rooms.keys().next().value!);
    }
    this.#rooms.set(journey.room, room);
    room.set(journey.seq, journey);
    if (room.size > this.options.perRoom) room.delete(room.keys().next().value!);
  }

  get(room: string, seq: number): Journey | undefined {
    return this.#rooms.get(room)?.get(seq);
  }

  /** The journey of a message this node did not receive (it came over the bus), made on demand. */
  remote(room: string, seq: number): Journey | undefined {
    if (!this.enabled) return undefined;
    const known = this.get(room, seq);
    if (known) return known;
    const journey = new Journey(room, undefined);
    journey.seq = seq;
    this.keep(journey);
    return journey;
  }

  get size(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.size;
    return n;
  }
}

/** A journey as the trace endpoint shows it: times as ISO strings and as ms after its start. */
export interface JourneyView {
  room: string;
  seq: number;
  door: string | null;
  wireBytes: number | null;
  framing: string | null;
  startedAt: string;
  stages: { stage: JourneyStage; at: string; ms: number }[];
  fanout: {
    door: string;
    recipients: number;
    bytesPerRecipient: number;
    queuedMs: number;
    firstWriteMs: number | null;
    lastWriteMs: number | null;
  }[];
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function journeyView(j: Journey): JourneyView {
  const times = [...Object.values(j.stages), ...[...j.fanout.values()].map((f) => f.queuedAt)] as number[];
  const start = j.stages.received ?? Math.min(...times);
  const since = (at: number) => round(at - start);
  return {
    room: j.room,
    seq: j.seq,
    door: j.ingress?.door ?? null,
    wireBytes: j.ingress?.wireBytes ?? null,
    framing: j.ingress?.framing ?? null,
    startedAt: new Date(start).toISOString(),
    stages: JOURNEY_STAGES.filter((s) => j.stages[s] !== undefined).map((s) => ({
      stage: s,
      at: new Date(j.stages[s]!).toISOString(),
      ms: since(j.stages[s]!),
    })),
    fanout: [...j.fanout].map(([door, f]) => ({
      door,
      recipients: f.recipients,
      bytesPerRecipient: f.bytesPerRecipient,
      queuedMs: since(f.queuedAt),
      firstWriteMs: f.firstWriteAt === undefined ? null : since(f.firstWriteAt),
      lastWriteMs: f.lastWriteAt === undefined ? null : since(f.lastWriteAt),
    })),
  };
}
