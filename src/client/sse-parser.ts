// The text/event-stream parser of the WHATWG spec as a state machine: feed it chunks of text,
// get back whole events. No I/O, so it works over fetch, a file, or a fuzzer.
export interface SseEvent {
  /** `event:` field; "message" when absent. */
  readonly event: string;
  /** `id:` field of this event, if it had one. */
  readonly id: string | undefined;
  readonly data: string;
}

export class SseParser {
  #buffer = '';
  #event = '';
  #id: string | undefined;
  #data: string[] = [];
  /** The last `id:` seen, which a reconnect sends as Last-Event-ID. */
  lastEventId: string | undefined;
  /** Comment lines (heartbeats), counted for whoever wants to know the stream is alive. */
  comments = 0;
  /** `retry:` from the server, in ms. */
  retry: number | undefined;

  /** Feed decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    this.#buffer += text;
    const out: SseEvent[] = [];
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line === '') {
        if (this.#data.length > 0)
          out.push({ event: this.#event || 'message', id: this.#id, data: this.#data.join('\n') });
        this.#event = '';
        this.#id = undefined;
        this.#data = [];
        continue;
      }
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.#event = value;
      else if (field === 'data') this.#data.push(value);
      else if (field === 'id' && !value.includes('\0')) {
        this.#id = value;
        this.lastEventId = value;
      } else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    }
    return out;
  }
}
