// One event on its way to many connections: the frame is serialized once, and each door's wire
// form (a WebSocket frame, a TCP line) is built once and shared by every recipient of that door.
import type { Journey } from '../core/journey.js';
import type { ServerFrame } from '../protocol/frames.js';

export class Outgoing {
  #json: string | undefined;
  #encoded: Map<string, Buffer> | undefined;
  /** A live message's journey on this node: each door notes its recipients and writes in it. */
  journey: Journey | undefined;

  constructor(
    readonly frame: ServerFrame,
    /** Set on `msg` frames: what the ordering and resume logic compares. */
    readonly seq?: number,
  ) {}

  get json(): string {
    this.#json ??= JSON.stringify(this.frame);
    return this.#json;
  }

  /** The wire form for one door (`key`), made by `encode` at most once per event. */
  encoded(key: string, encode: (out: Outgoing) => Buffer): Buffer {
    this.#encoded ??= new Map();
    let bytes = this.#encoded.get(key);
    if (!bytes) {
      bytes = encode(this);
      this.#encoded.set(key, bytes);
    }
    return bytes;
  }
}
