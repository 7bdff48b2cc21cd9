// Messages: the one path every door posts through — validate, authorize, store (durable, seq
// assigned), then publish to the bus so every hub fans it out — plus history, edit and delete.
import { type Decision, type RoomFacts, canDeleteMessage, canEditMessage } from '../core/authorize.js';
import { PorthouseError, fail } from '../core/errors.js';
import { type Journey, type JourneyLog, preciseNow } from '../core/journey.js';
import { checkText } from '../core/names.js';
import type { Actor, MessageRecord, RoomRecord, Via } from '../core/types.js';
import { publicMessage } from '../core/types.js';
import type { RoomEvent } from '../bus/bus.js';
import type { HistoryQuery, Store } from '../store/store.js';
import { type Precondition, enforce, visibleRoom } from './access.js';
import type { PostAccess } from './post-access.js';
import type { Turn } from './turns.js';

export interface MessagesOptions {
  readonly maxTextLength: number;
}

export interface PostOptions {
  /** A retry with the same key (same author and room, within the store's window) is not stored twice. */
  readonly idempotencyKey?: string | undefined;
  /** The connection's place in line: its messages are stored in the order they arrived. */
  readonly turn?: Turn | undefined;
  /** Runs once the message is durable, before it is published (a frame door's `ack`). */
  readonly acknowledge?: (message: MessageRecord) => void;
  /** Its journey, begun by the door that received it; kept in the node's log once stored. */
  readonly journey?: Journey | undefined;
}

export class Messages {
  constructor(
    private readonly store: Store,
    private readonly access: PostAccess,
    private readonly publish: (event: RoomEvent) => void,
    /** A message to `room` is on its way to the store (Bus.writing); the result ends it. */
    private readonly writing: (room: string) => () => void,
    private readonly options: MessagesOptions,
    private readonly onStored: (via: Via) => void = () => {},
    /** Where journeys are kept; none kept without it. */
    private readonly journeys?: JourneyLog,
  ) {}

  /** A typing notice: whoever may post there, sent through the bus to every node, never stored. */
  async typing(actor: Actor, room: string): Promise<void> {
    await this.access.check(actor, room);
    this.publish({ type: 'typing', room, user: actor.name });
  }

  checkText(text: string): void {
    const problem = checkText(text, this.options.maxTextLength);
    if (problem === 'text_too_long')
      fail('text_too_long', `The text is longer than ${this.options.maxTextLength} characters.`);
    if (problem) fail(problem);
  }

  /**
   * Store `text` in `room` as the next seq and publish it. Resolves only once durable; a retry
   * with the same idempotency key resolves to the original message with `created: false`. With
   * a `turn` (one per connection, taken in arrival order), messages are stored in that order.
   * `acknowledge` runs once the message is durable and before it is published, so a frame
   * door's `ack` reaches its sender ahead of the message's own fan-out, on every bus alike.
   */
  async post(
    actor: Actor,
    roomName: string,
    text: string,
    via: Via,
    options: PostOptions = {},
  ): Promise<{ message: MessageRecord; created: boolean }> {
    const { idempotencyKey, turn } = options;
    let journey = this.journeys?.enabled ? options.journey : undefined;
    let appended: Promise<{ message: MessageRecord; created: boolean }>;
    let written: () => void;
    try {
      this.checkText(text);
      const room = await this.access.check(actor, roomName);
      journey?.mark('decoded');
      if (turn) await turn.ready;
      written = this.writing(roomName);
      try {
        appended = this.store.appendMessage(room, {
          author: actor.name,
          text,
          via,
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
          ...(journey ? { timing: journey } : {}),
        });
      } catch (err) {
        written();
        throw err;
      }
    } finally {
      turn?.leave();
    }
    const result = await appended.catch((err: unknown) => {
      written();
      // A remembered room that is gone since: the next pub reads it again.
      if (err instanceof PorthouseError && err.code === 'room_not_found') this.access.forget(roomName);
      throw err;
    });
    try {
      if (journey && result.created) {
        journey.seq = result.message.seq;
        journey.stored();
        // Kept in a slot of the room's ring: later stages are noted in what was kept.
        journey = this.journeys!.keep(journey);
      }
      options.acknowledge?.(result.message);
      if (options.acknowledge) journey?.mark('acked');
    } finally {
      // Stored is stored: whatever happened to the sender's ack (or its journey), the room hears of it.
      if (result.created) {
        this.onStored(via);
        journey?.mark('published', preciseNow());
        this.publish({ type: 'msg', room: roomName, message: publicMessage(result.message) });
      }
      written();
    }
    return result;
  }

  async history(room: RoomRecord, query: HistoryQuery): Promise<MessageRecord[]> {
    return this.store.listMessages(room, query);
  }

  async get(
    actor: Actor,
    roomName: string,
    seq: number,
  ): Promise<{ room: RoomRecord; message: MessageRecord }> {
    const { room, current } = await this.#target(actor, roomName, seq);
    return { room, message: current };
  }

  async edit(
    actor: Actor,
    roomName: string,
    seq: number,
    text: string,
    check?: Precondition<MessageRecord>,
  ): Promise<MessageRecord> {
    this.checkText(text);
    const { room, current } = await this.#target(actor, roomName, seq, canEditMessage, check);
    const edited = await this.store.editMessage(room, seq, text, check ? current.version : undefined);
    this.publish({ type: 'edit', room: roomName, message: publicMessage(edited) });
    return edited;
  }

  async delete(
    actor: Actor,
    roomName: string,
    seq: number,
    check?: Precondition<MessageRecord>,
  ): Promise<MessageRecord> {
    const { room, current } = await this.#target(actor, roomName, seq, canDeleteMessage, check);
    if (current.deleted) {
      // Nothing to write: the answer is what was read, so it waits to be durable, as reads do.
      await this.store.untilDurable();
      return current;
    }
    const deleted = await this.store.deleteMessage(room, seq, check ? current.version : undefined);
    this.publish({ type: 'del', room: roomName, seq, by: actor.name });
    return deleted;
  }

  /** The message at `seq` in a room the actor can see, once `rule` and the If-Match check pass. */
  async #target(
    actor: Actor,
    roomName: string,
    seq: number,
    rule?: (actor: Actor, facts: RoomFacts, author: string) => Decision,
    check?: Precondition<MessageRecord>,
  ): Promise<{ room: RoomRecord; current: MessageRecord }> {
    const { room, facts } = await visibleRoom(this.store, actor, roomName);
    const current = await this.store.getMessage(room, seq);
    if (!current) fail('message_not_found');
    if (rule) enforce(rule(actor, facts, current.author));
    check?.(current);
    return { room, current };
  }
}
