// One room's conversation as a client shows it: history pages, live frames and the user's own
// sends merged by seq, so a message seen twice (page and frame, replay after a reconnect) is
// shown once, and a send shows at once as pending and turns into the stored message on its ack.
// Pure state, no I/O: the web client renders it and the tests drive it directly.
import type { Message } from '../core/types.js';
import type { Frame } from './realtime.js';

/** A send not yet acknowledged, keyed by the client's `ref` (reused by every retry). */
export interface PendingSend {
  readonly ref: string;
  readonly text: string;
  readonly author: string;
  state: 'pending' | 'failed';
  error?: string;
}

export type TimelineEntry =
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'pending'; readonly send: PendingSend };

export class Timeline {
  readonly room: string;
  readonly #messages = new Map<number, Message>();
  readonly #pending = new Map<string, PendingSend>();
  #sorted: Message[] | undefined;
  /** False once a page came back shorter than asked: nothing older exists. */
  hasOlder = true;
  /** True once a history page was added (live frames alone do not show the room's past). */
  loaded = false;

  constructor(room: string) {
    this.room = room;
  }

  /** Lowest seq held (where the next older page ends), or undefined when empty. */
  get oldest(): number | undefined {
    return this.messages()[0]?.seq;
  }

  /** Highest seq held. */
  get newest(): number | undefined {
    const all = this.messages();
    return all[all.length - 1]?.seq;
  }

  /** A history page (ascending). `limit` is what was asked, to tell whether older ones remain. */
  addPage(page: readonly Message[], limit: number, older: boolean): void {
    for (const m of page) this.#put(m);
    this.loaded = true;
    if (older && page.length < limit) this.hasOlder = false;
  }

  /** A server frame for this room; returns whether the timeline changed. */
  applyFrame(frame: Frame): boolean {
    if (!('room' in frame) || frame.room !== this.room) return false;
    switch (frame.type) {
      case 'msg':
      case 'edit': {
        const { type: _type, ...message } = frame;
        if ('truncated' in message) delete message.truncated;
        this.#put(message);
        return true;
      }
      case 'del': {
        const current = this.#messages.get(frame.seq);
        if (current) {
          const { text: _text, ...rest } = current;
          this.#put({ ...rest, deleted: true });
        }
        return current !== undefined;
      }
      default:
        return false;
    }
  }

  addPending(send: Omit<PendingSend, 'state'>): void {
    this.#pending.set(send.ref, { ...send, state: 'pending' });
  }

  /**
   * The server stored a pending send as `seq`. Until its `msg` frame arrives (it may already
   * have, in a replay), the send is shown as that message, so it never blinks out or shows twice.
   */
  acknowledge(ref: string, seq: number, via: Message['via'] = 'ws'): void {
    const send = this.#pending.get(ref);
    if (!send) return;
    this.#pending.delete(ref);
    if (!this.#messages.has(seq))
      this.#put({
        room: this.room,
        seq,
        id: `pending:${ref}`,
        author: send.author,
        text: send.text,
        via,
        createdAt: new Date().toISOString(),
      });
  }

  fail(ref: string, error: string): void {
    const send = this.#pending.get(ref);
    if (send) {
      send.state = 'failed';
      send.error = error;
    }
  }

  /** A failed send is being tried again (with the same ref). */
  retry(ref: string): PendingSend | undefined {
    const send = this.#pending.get(ref);
    if (send) {
      send.state = 'pending';
      delete send.error;
    }
    return send;
  }

  discard(ref: string): void {
    this.#pending.delete(ref);
  }

  messages(): readonly Message[] {
    this.#sorted ??= [...this.#messages.values()].sort((a, b) => a.seq - b.seq);
    return this.#sorted;
  }

  pending(): readonly PendingSend[] {
    return [...this.#pending.values()];
  }

  /** Stored messages by seq, then the sends still waiting for their ack. */
  entries(): TimelineEntry[] {
    return [
      ...this.messages().map((message) => ({ kind: 'message' as const, message })),
      ...this.pending().map((send) => ({ kind: 'pending' as const, send })),
    ];
  }

  #put(m: Message): void {
    const current = this.#messages.get(m.seq);
    // A tombstone stays a tombstone, and an older copy (a page read before an edit, a `msg`
    // replayed after it) must not undo an edit: the text last edited wins.
    if (current && !m.deleted && (current.deleted || editedAt(m) < editedAt(current))) return;
    this.#messages.set(m.seq, m);
    this.#sorted = undefined;
  }
}

/** When the message was last edited ('' if never): ISO times of one server compare as text. */
function editedAt(m: Message): string {
  return m.editedAt ?? '';
}
