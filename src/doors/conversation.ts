// One connection's side of the frame protocol, whatever carries it (a WebSocket, a TCP line
// stream): authenticate, then sub/unsub/pub/typing/ping, each answered or refused with a stable
// code. The door feeds it whole frames and gives it a Transport; it never touches a socket.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { type ErrorCode, ERRORS, PorthouseError } from '../core/errors.js';
import { Journey, type JourneyIngress } from '../core/journey.js';
import type { Actor, Via } from '../core/types.js';
import type { Hub } from '../hub/hub.js';
import { Allowance, type Refusal } from './allowance.js';
import type { Metrics } from '../metrics/metrics.js';
import { Outgoing } from '../hub/outgoing.js';
import type { Subscriber } from '../hub/subscription.js';
import type { Services } from '../service/services.js';
import { Turns } from '../service/turns.js';
import { decodeFrame } from '../protocol/decode.js';
import type { ClientFrame, FrameRef, ServerFrame } from '../protocol/frames.js';

export interface Transport {
  /** Queue a frame; the door coalesces writes and enforces the send buffer limit. */
  send(out: Outgoing): void;
  /**
   * End the connection with the error's close code (`normal`: 1000). `told`: an `error` frame
   * with this code was just sent (and counted), so the close must not tell or count it again.
   */
  close(code: ErrorCode | 'normal', message?: string, told?: boolean): void;
  /** See Subscriber.drained. */
  drained?(): Promise<void> | undefined;
}

export interface ConversationOptions {
  readonly via: Via;
  /** False lifts the per-connection limits below (`--rate-limits off`). */
  readonly limits: boolean;
  readonly pubPerSecond: number;
  readonly pubBurst: number;
  readonly typingPerSecond: number;
  /** Errors counted by code, for /metrics. */
  readonly onError?: (code: ErrorCode) => void;
  /** A failure that is a bug or an outage, not the client's doing: the client sees `internal`. */
  readonly onInternal?: (err: unknown, frameType: string) => void;
}

/**
 * Log a failure that is not the client's doing (a bug, an outage): the client is told only
 * `internal`; the operator gets the whole error, the door and the frame type. Every frame door
 * logs it this one way.
 */
export function logInternal(logger: Logger | undefined, err: unknown, door: string, frame: string): void {
  logger?.error({ err, door, frame }, 'frame failed');
}

/**
 * A frame door's options from the node's config (the limits every frame door shares), its
 * errors counted in `metrics` by door and code, and internal failures logged to `logger`.
 */
export function conversationOptions(
  config: Pick<Config, 'rateLimits' | 'framePubPerSecond' | 'framePubBurst' | 'typingPerSecond'>,
  door: 'ws' | 'tcp',
  report: { readonly metrics: Pick<Metrics, 'errors'>; readonly logger?: Logger | undefined },
): ConversationOptions {
  return {
    via: door,
    limits: config.rateLimits,
    pubPerSecond: config.framePubPerSecond,
    pubBurst: config.framePubBurst,
    typingPerSecond: config.typingPerSecond,
    onError: (code) => report.metrics.errors.inc({ door, code }),
    onInternal: (err, frame) => logInternal(report.logger, err, door, frame),
  };
}

const frame = (f: ServerFrame) => new Outgoing(f);

/**
 * Frames a client may send after `auth` without waiting for `ready`; they wait, in order, for
 * the token to be checked. One more is refused with `rate_limited`.
 */
export const MAX_FRAMES_DURING_AUTH = 64;

export class Conversation implements Subscriber {
  #actor: Actor | undefined;
  #closed = false;
  /** Frames that arrived while an `auth` was being checked (undefined when none is). */
  #held: ClientFrame[] | undefined;
  readonly #allowance: Allowance;
  /** Keeps this connection's pubs stored in the order they arrived. */
  readonly #turns = new Turns();
  /**
   * Per room, the last sub/unsub still running: the next waits for it, so `sub` then `unsub`
   * leaves the connection unsubscribed and each gets its answer, in the order they were sent.
   */
  readonly #roomOps = new Map<string, Promise<void>>();
  /** Each pub frame's journey, from its receipt until it is posted. */
  readonly #journeys = new WeakMap<ClientFrame, Journey>();

  constructor(
    private readonly transport: Transport,
    private readonly services: Services,
    private readonly hub: Hub,
    private readonly options: ConversationOptions,
  ) {
    this.#allowance = new Allowance(options);
  }

  get actor(): Actor {
    if (!this.#actor) throw new PorthouseError('unauthorized');
    return this.#actor;
  }

  get authenticated(): boolean {
    return this.#actor !== undefined;
  }

  get user(): string | undefined {
    return this.#actor?.name;
  }

  rooms(): string[] {
    return this.hub.roomsOf(this);
  }

  send(out: Outgoing): void {
    if (!this.#closed) this.transport.send(out);
  }

  drained(): Promise<void> | undefined {
    return this.transport.drained?.();
  }

  /** The door authenticated the connection itself (a token on the WebSocket upgrade). */
  authenticate(actor: Actor, ref?: FrameRef): void {
    this.#actor = actor;
    // Refused (over the per-user cap, or deleted): the hub has ended the connection, and the
    // door's close counted the error it carried.
    if (this.#closed || this.hub.attach(this)) return;
    this.#ready(actor, ref);
  }

  #ready(actor: Actor, ref: FrameRef | undefined): void {
    const ready: ServerFrame = { type: 'ready', user: actor.name, admin: actor.admin };
    this.send(frame(ref === undefined ? ready : { ...ready, ref }));
  }

  /**
   * One frame's text, and what it cost on the wire (for a pub's journey). Never throws: every
   * failure becomes an `error` frame or a close.
   */
  receive(text: string, wire?: () => JourneyIngress): void {
    if (this.#closed) return;
    const decoded = decodeFrame(text);
    if (!decoded.ok) {
      this.#error(decoded.code, decoded.message, decoded.ref);
      return;
    }
    const f = decoded.frame;
    if (f.type === 'pub' && wire && this.services.journeys.enabled)
      this.#journeys.set(f, new Journey(f.room, wire()));
    // A client (often a person typing into nc) may send `auth` and its first `sub` together:
    // what follows an auth waits for it instead of being refused as unauthenticated.
    if (this.#held && f.type !== 'ping') {
      if (this.#held.length >= MAX_FRAMES_DURING_AUTH)
        this.#fail(
          new PorthouseError('rate_limited', `At most ${MAX_FRAMES_DURING_AUTH} frames may wait for auth.`),
          f,
        );
      else this.#held.push(f);
      return;
    }
    this.#dispatch(f).catch((err: unknown) => this.#fail(err, f));
  }

  /** The door refused something before a frame existed (a binary message, a too-long line). */
  refuse(code: ErrorCode, message: string): void {
    this.#error(code, message);
  }

  /** The hub ends this connection (its user was deleted): the door closes it with this error. */
  end(code: ErrorCode, message: string): void {
    this.transport.close(code, message);
    this.closed();
  }

  /** The connection is gone: leave every room. Idempotent. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.drop(this);
  }

  async #dispatch(f: ClientFrame): Promise<void> {
    if (f.type === 'ping') {
      this.send(frame(f.ref === undefined ? { type: 'pong' } : { type: 'pong', ref: f.ref }));
      return;
    }
    if (f.type === 'auth') {
      if (this.#actor) return this.#authAgain(this.#actor, f.token, f.ref);
      this.#held = [];
      let actor: Actor;
      try {
        actor = await this.services.tokens.verify(f.token);
      } catch (err) {
        const held = this.#held;
        this.#held = undefined;
        // A refused token closes the connection, and what waited on it goes with it. Any other
        // failure (the store away) leaves the connection open: each waiting frame gets the
        // same answer, with its own ref, rather than none.
        const refused = err instanceof PorthouseError && ERRORS[err.code].status === 401;
        if (!refused) for (const next of held) this.#fail(err, next);
        throw err;
      }
      if (this.#closed) return;
      this.authenticate(actor, f.ref);
      const held = this.#held;
      this.#held = undefined;
      for (const next of held) {
        if (this.#closed) break;
        this.#dispatch(next).catch((err: unknown) => this.#fail(err, next));
      }
      return;
    }
    const actor = this.actor;
    switch (f.type) {
      case 'sub':
        return this.#inOrder(f.room, () => this.hub.subscribe(this, f.room, f.since, f.ref));
      case 'unsub':
        return this.#inOrder(f.room, async () => {
          this.hub.unsubscribe(this, f.room);
          this.send(
            frame(
              f.ref === undefined
                ? { type: 'unsubbed', room: f.room }
                : { type: 'unsubbed', room: f.room, ref: f.ref },
            ),
          );
        });
      case 'pub': {
        this.#take(this.#allowance.pub());
        await this.services.messages.post(actor, f.room, f.text, this.options.via, {
          idempotencyKey: f.ref === undefined ? undefined : String(f.ref),
          turn: this.#turns.take(),
          journey: this.#journeys.get(f),
          acknowledge: (message) =>
            this.send(
              frame(
                f.ref === undefined
                  ? { type: 'ack', room: f.room, seq: message.seq }
                  : { type: 'ack', room: f.room, seq: message.seq, ref: f.ref },
              ),
            ),
        });
        return;
      }
      case 'typing':
        this.#take(this.#allowance.typing());
        await this.services.messages.typing(actor, f.room);
        return;
    }
  }

  /**
   * An `auth` on a connection already authenticated (often by a token on the upgrade as well):
   * the same user is answered `ready` again, anything else is refused and the connection stays
   * as it was.
   */
  async #authAgain(actor: Actor, token: string, ref: FrameRef | undefined): Promise<void> {
    let again: Actor | undefined;
    try {
      again = await this.services.tokens.verify(token);
    } catch (err) {
      // A bad token is refused below; an outage is reported as such.
      if (!(err instanceof PorthouseError && ERRORS[err.code].status === 401)) throw err;
    }
    if (again?.name !== actor.name)
      throw new PorthouseError('bad_request', `This connection is already authenticated as ${actor.name}.`);
    this.#ready(actor, ref);
  }

  /** Run `op` after the room's earlier sub/unsub has settled; its failure is the caller's alone. */
  #inOrder(room: string, op: () => Promise<void>): Promise<void> {
    const run = (this.#roomOps.get(room) ?? Promise.resolve()).then(() => (this.#closed ? undefined : op()));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#roomOps.set(room, settled);
    void settled.then(() => {
      if (this.#roomOps.get(room) === settled) this.#roomOps.delete(room);
    });
    return run;
  }

  #take(refusal: Refusal): void {
    if (refusal)
      throw new PorthouseError('rate_limited', `Slow down; try again in ${refusal.retryAfter} s.`, {
        retryAfter: refusal.retryAfter,
      });
  }

  #fail(err: unknown, f: ClientFrame): void {
    const ref = 'ref' in f ? f.ref : undefined;
    const room = 'room' in f ? f.room : undefined;
    if (!(err instanceof PorthouseError)) {
      // The client gets no detail; the operator gets all of it.
      this.options.onInternal?.(err, f.type);
      this.#error('internal', ERRORS.internal.title, ref, room);
      return;
    }
    this.#error(err.code, err.message, ref, room);
    // A refused token ends the connection: nothing else can be done on it until it changes.
    if (f.type === 'auth' && ERRORS[err.code].status === 401)
      this.transport.close(err.code, err.message, true);
  }

  #error(code: ErrorCode, message: string, ref?: FrameRef, room?: string): void {
    this.options.onError?.(code);
    const f: ServerFrame = { type: 'error', code, message };
    if (ref !== undefined) f.ref = ref;
    if (room !== undefined) f.room = room;
    this.send(frame(f));
  }
}
