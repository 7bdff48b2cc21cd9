// Newline-delimited frames out of a byte stream: partial lines across reads, several lines in
// one read, and a hard limit on line length that holds without buffering past it. Pure state
// machine (bytes in, lines out), so it is tested and fuzzed without a socket.

export type LineEvent =
  /** `bytes`: the line as it came, its newline (and any CR before it) included. */
  | { readonly kind: 'line'; readonly text: string; readonly bytes: number }
  /** A line longer than the limit: its bytes are dropped; the stream should be closed. */
  | { readonly kind: 'too_long' }
  /** A line that is not valid UTF-8. */
  | { readonly kind: 'invalid_utf8' };

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class LineSplitter {
  #parts: Buffer[] = [];
  #length = 0;
  #overflowed = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Bytes waiting for their newline. */
  get pending(): number {
    return this.#length;
  }

  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.#overflowed || this.#length + piece.length > this.maxLineBytes) {
        // Reported once per line: when the limit was passed, or now if it is passed here.
        if (!this.#overflowed) events.push({ kind: 'too_long' });
        this.#reset();
        continue;
      }
      const line = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#reset();
      events.push(decode(line));
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0 && !this.#overflowed) {
      if (this.#length + rest.length > this.maxLineBytes) {
        // Report as soon as the limit is passed, not when (if ever) the newline comes.
        this.#overflowed = true;
        this.#parts = [];
        this.#length = 0;
        events.push({ kind: 'too_long' });
      } else {
        this.#parts.push(rest);
        this.#length += rest.length;
      }
    }
    return events;
  }

  #reset(): void {
    this.#parts = [];
    this.#length = 0;
    this.#overflowed = false;
  }
}

function decode(bytes: Buffer): LineEvent {
  // A trailing \r (nc -C, telnet, Windows) is part of the line ending, not of the frame.
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  try {
    return { kind: 'line', text: utf8.decode(bytes.subarray(0, end)), bytes: bytes.length + 1 };
  } catch {
    return { kind: 'invalid_utf8' };
  }
}
