// Where the chat's lines go. On a terminal: messages scroll up while a status row (who is
// here, who is typing, the connection) and the prompt stay on the bottom two rows, redrawn in
// one write per change. Anywhere else (a pipe, a file): plain lines, no escape codes at all.
import { cellWidth, fitWidth, textWidth } from './chat-lines.js';

export interface ScreenOutput {
  write(s: string): unknown;
  readonly columns?: number;
}

/** The prompt as the line editor holds it. */
export interface PromptState {
  readonly chars: readonly string[];
  readonly cursor: number;
}

const ERASE_BOTTOM = '\u001b[1A\r\u001b[J';

export class ChatScreen {
  readonly #out: ScreenOutput;
  readonly #terminal: boolean;
  #status = '';
  #label = '';
  #prompt: PromptState = { chars: [], cursor: 0 };
  /** The first code point of the prompt shown, when the line is wider than the terminal. */
  #scroll = 0;
  #drawn = false;

  /** `terminal`: draw the status row and the prompt; otherwise plain lines only. */
  constructor(out: ScreenOutput, terminal: boolean) {
    this.#out = out;
    this.#terminal = terminal;
  }

  get terminal(): boolean {
    return this.#terminal;
  }

  /** A line above the prompt, kept in the terminal's scrollback. */
  print(line: string): void {
    if (!this.#terminal) {
      this.#out.write(`${line}\n`);
      return;
    }
    this.#out.write(`${this.#drawn ? ERASE_BOTTOM : ''}${line}\r\n${this.#bottom()}`);
  }

  status(text: string): void {
    if (text === this.#status) return;
    this.#status = text;
    this.#redraw();
  }

  /** What the prompt line starts with (the room talked in). */
  label(text: string): void {
    if (text === this.#label) return;
    this.#label = text;
    this.#redraw();
  }

  prompt(state: PromptState): void {
    this.#prompt = state;
    this.#redraw();
  }

  /** After a resize, or Ctrl-L. */
  repaint(clear = false): void {
    if (!this.#terminal) return;
    this.#out.write(`${clear ? '\u001b[2J\u001b[H' : this.#drawn ? ERASE_BOTTOM : ''}${this.#bottom()}`);
  }

  /** Leave the terminal as it was found: the two rows gone, the cursor at a line's start. */
  close(): void {
    if (this.#terminal && this.#drawn) this.#out.write(ERASE_BOTTOM);
    this.#drawn = false;
  }

  #redraw(): void {
    if (this.#terminal) this.#out.write(`${this.#drawn ? ERASE_BOTTOM : ''}${this.#bottom()}`);
  }

  /** The status row and the prompt row, the cursor placed in the prompt. */
  #bottom(): string {
    this.#drawn = true;
    // One cell short of the edge: writing the last column makes some terminals wrap at once.
    const columns = Math.max(10, (this.#out.columns ?? 80) - 1);
    const { chars, cursor } = this.#prompt;
    const shownLabel = fitWidth(this.#label, Math.floor(columns / 2));
    const room = columns - textWidth(shownLabel);
    if (cursor < this.#scroll) this.#scroll = cursor;
    while (widthOf(chars, this.#scroll, cursor) > room - 1) this.#scroll++;
    let shown = '';
    let w = 0;
    for (let i = this.#scroll; i < chars.length; i++) {
      const cw = cellWidth(chars[i]!);
      if (w + cw > room) break;
      shown += chars[i];
      w += cw;
    }
    const column = textWidth(shownLabel) + widthOf(chars, this.#scroll, cursor);
    return `${fitWidth(this.#status, columns)}\r\n${shownLabel}${shown}\r${column > 0 ? `\u001b[${column}C` : ''}`;
  }
}

function widthOf(chars: readonly string[], from: number, to: number): number {
  let w = 0;
  for (let i = from; i < to; i++) w += cellWidth(chars[i]!);
  return w;
}
