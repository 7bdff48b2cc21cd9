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

const STAGE_INDEX = Object.fromEntries(JOURNEY_STAGES.map((s, i) => [s, i])) as Record<JourneyStage, number>;

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
  door: string;
  recipients: number;
  /** Bytes one recipient was written (this door's framing of the message). */
  bytesPerRecipient: number;
  queuedAt: number;
  firstWriteAt: number | undefined;
  lastWriteAt: number | undefined;
  /** The last write pass it was queued in (see queued). */
  pass: number;
}

/**
 * One message's journey. Flat on purpose: a kept journey is copied into a slot of its room's
 * ring that is reused for every later message (see JourneyLog), so keeping the newest
 * thousand costs no allocation once the ring is full, and no garbage the collector must trace.
 */
export class Journey implements WriteTiming {
  seq = 0;
  /** How it arrived (none for a message that came over the bus). */
  door: string | undefined;
  wireBytes = 0;
  framing = '';
  /** Stage times in JOURNEY_STAGES order, ms since the epoch; NaN until reached. */
  readonly #times = new Float64Array(JOURNEY_STAGES.length).fill(Number.NaN);
  /** Filled in by the store (WriteTiming): its commit, and the sync that made it durable. */
  committedAt: number | undefined;
  durableAt: number | undefined;
  /** One entry per door it was fanned out on; entries past `doors` are spare, for reuse. */
  readonly #fanout: DoorFanout[] = [];
  #doors = 0;
  /** The door last queued to, and its entry. */
  #door: string | undefined;
  #entry: DoorFanout | undefined;

  constructor(
    public room: string,
    ingress: JourneyIngress | undefined,
  ) {
    if (ingress) {
      this.door = ingress.door;
      this.wireBytes = ingress.wireBytes;
      this.framing = ingress.framing;
      this.#times[STAGE_INDEX.received] = ingress.receivedAt;
    }
  }

  mark(stage: JourneyStage, at = preciseNow()): void {
    // The first time of a stage counts.
    const i = STAGE_INDEX[stage];
    if (Number.isNaN(this.#times[i]!)) this.#times[i] = at;
  }

  /** When `stage` was reached, or undefined. */
  at(stage: JourneyStage): number | undefined {
    const t = this.#times[STAGE_INDEX[stage]]!;
    return Number.isNaN(t) ? undefined : t;
  }

  /** The write is back: its commit and sync times as the store saw them. */
  stored(at = preciseNow()): void {
    this.mark('stored', this.committedAt ?? at);
    this.mark('durable', this.durableAt ?? at);
  }

  /** The doors it was fanned out on, in the order they were first queued. */
  get fanout(): readonly DoorFanout[] {
    return this.#fanout.slice(0, this.#doors);
  }

  /**
   * One recipient on `door` was queued `bytes` in write pass `pass`. True for the first of this
   * door in that pass: the caller notes the journey once, and tells it when the pass is written.
   * The clock is read for the door's first recipient only.
   */
  queued(door: string, bytes: number, pass = 0): boolean {
    // Called once per recipient: the last door's entry saves a search on all but the first.
    let f = door === this.#door ? this.#entry : this.#find(door);
    if (f) f.recipients++;
    else {
      // The next spare entry, or a new one: a reused journey allocates none.
      if (this.#doors === this.#fanout.length)
        this.#fanout.push({
          door,
          recipients: 0,
          bytesPerRecipient: 0,
          queuedAt: 0,
          firstWriteAt: undefined,
          lastWriteAt: undefined,
          pass: 0,
        });
      f = this.#fanout[this.#doors++]!;
      f.door = door;
      f.recipients = 1;
      f.bytesPerRecipient = bytes;
      f.queuedAt = preciseNow();
      f.firstWriteAt = undefined;
      f.lastWriteAt = undefined;
      f.pass = 0;
    }
    this.#door = door;
    this.#entry = f;
    if (f.pass === pass) return false;
    f.pass = pass;
    return true;
  }

  /** Writes that carried this message to recipients on `door` went to the kernel, from `first` to `last`. */
  written(door: string, first: number, last = first): void {
    const f = door === this.#door ? this.#entry : this.#find(door);
    if (!f) return;
    if (f.firstWriteAt === undefined || first < f.firstWriteAt) f.firstWriteAt = first;
    if (f.lastWriteAt === undefined || last > f.lastWriteAt) f.lastWriteAt = last;
  }

  #find(door: string): DoorFanout | undefined {
    for (let i = 0; i < this.#doors; i++) if (this.#fanout[i]!.door === door) return this.#fanout[i];
    return undefined;
  }

  /** Become `other` (a door's journey, just stored), keeping this one's spare fan-out entries. */
  copyFrom(other: Journey): void {
    this.room = other.room;
    this.seq = other.seq;
    this.door = other.door;
    this.wireBytes = other.wireBytes;
    this.framing = other.framing;
    this.#times.set(other.#times);
    this.committedAt = other.committedAt;
    this.durableAt = other.durableAt;
    this.#doors = 0;
    this.#door = undefined;
    this.#entry = undefined;
    // A door's journey is kept before its fan-out begins; any it has are carried over.
    for (const f of other.fanout) {
      this.queued(f.door, f.bytesPerRecipient);
      Object.assign(this.#entry!, f);
    }
  }

  /** Start afresh as the journey of `seq`, which came over the bus. */
  reset(room: string, seq: number): void {
    this.copyFrom(BLANK);
    this.room = room;
    this.seq = seq;
  }
}

const BLANK = new Journey('', undefined);

export interface JourneyLogOptions {
  /** Journeys kept per room, the newest. */
  readonly perRoom: number;
  /** Rooms kept, the most recently written. */
  readonly rooms: number;
}

/**
 * The journeys of the newest messages of the newest rooms: memory bounded by perRoom × rooms.
 * Each room is a ring indexed by seq (seqs have no gaps), its slots reused once it is full.
 */
export class JourneyLog {
  /** room → its ring, in order of last write (oldest first), so the oldest room goes first. */
  readonly #rooms = new Map<string, (Journey | undefined)[]>();
  /** The room written last: the common case of one busy room skips the reordering. */
  #last: string | undefined;

  constructor(readonly options: JourneyLogOptions) {}

  get enabled(): boolean {
    return this.options.perRoom > 0 && this.options.rooms > 0;
  }

  #ring(room: string): (Journey | undefined)[] {
    let ring = this.#rooms.get(room);
    if (ring && this.#last === room) return ring;
    if (ring) this.#rooms.delete(room);
    else {
      ring = new Array<Journey | undefined>(this.options.perRoom).fill(undefined);
      if (this.#rooms.size >= this.options.rooms) this.#rooms.delete(this.#rooms.keys().next().value!);
    }
    this.#rooms.set(room, ring);
    this.#last = room;
    return ring;
  }

  /**
   * Keep `journey` under its seq (set once stored). Returns the journey kept, which is what
   * later stages and the fan-out are noted in: `journey` itself, or the reused slot it was
   * copied into.
   */
  keep(journey: Journey): Journey {
    if (!this.enabled || journey.seq < 1) return journey;
    const ring = this.#ring(journey.room);
    const i = journey.seq % this.options.perRoom;
    const slot = ring[i];
    if (slot === undefined) {
      ring[i] = journey;
      return journey;
    }
    slot.copyFrom(journey);
    return slot;
  }

  get(room: string, seq: number): Journey | undefined {
    const j = this.#rooms.get(room)?.[seq % this.options.perRoom];
    return j && j.seq === seq && j.room === room ? j : undefined;
  }

  /** The journey of a message this node did not receive (it came over the bus), made on demand. */
  remote(room: string, seq: number): Journey | undefined {
    if (!this.enabled || seq < 1) return undefined;
    const known = this.get(room, seq);
    if (known) return known;
    const ring = this.#ring(room);
    const i = seq % this.options.perRoom;
    const slot = ring[i];
    if (slot) {
      slot.reset(room, seq);
      return slot;
    }
    const journey = new Journey(room, undefined);
    journey.seq = seq;
    ring[i] = journey;
    return journey;
  }

  get size(): number {
    let n = 0;
    for (const ring of this.#rooms.values()) for (const j of ring) if (j) n++;
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
  const reached = JOURNEY_STAGES.filter((s) => j.at(s) !== undefined);
  const fanout = j.fanout;
  const earliest = Math.min(...reached.map((s) => j.at(s)!), ...fanout.map((f) => f.queuedAt));
  // A message from the bus not yet fanned out here has no time at all: it starts now.
  const start = j.at('received') ?? (Number.isFinite(earliest) ? earliest : preciseNow());
  const since = (at: number) => round(at - start);
  return {
    room: j.room,
    seq: j.seq,
    door: j.door ?? null,
    wireBytes: j.door === undefined ? null : j.wireBytes,
    framing: j.door === undefined ? null : j.framing,
    startedAt: new Date(start).toISOString(),
    stages: reached.map((s) => ({
      stage: s,
      at: new Date(j.at(s)!).toISOString(),
      ms: since(j.at(s)!),
    })),
    fanout: fanout.map((f) => ({
      door: f.door,
      recipients: f.recipients,
      bytesPerRecipient: f.bytesPerRecipient,
      queuedMs: since(f.queuedAt),
      firstWriteMs: f.firstWriteAt === undefined ? null : since(f.firstWriteAt),
      lastWriteMs: f.lastWriteAt === undefined ? null : since(f.lastWriteAt),
    })),
  };
}
