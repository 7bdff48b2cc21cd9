// The chat prompt's line editor: a state machine fed the raw bytes a terminal sends (keys,
// escape sequences, pastes), with no terminal of its own, so every key can be tested directly.

/** What a chunk of input did, in order. */
export type EditorEvent =
  | { readonly type: 'submit'; readonly line: string }
  /** The text or the cursor changed: redraw the prompt. */
  | { readonly type: 'changed' }
  /** Ctrl-C. */
  | { readonly type: 'interrupt' }
  /** Ctrl-D on an empty line. */
  | { readonly type: 'eof' }
  /** Ctrl-L: repaint the screen. */
  | { readonly type: 'repaint' };

export interface LineEditorOptions {
  /** Code points one line may hold; more typed or pasted are dropped (the server has its own limit). */
  readonly maxLength?: number;
  /** Submitted lines kept for Up/Down. */
  readonly historySize?: number;
}

// A CSI sequence: ESC [ parameters intermediates final (ECMA-48 §5.4).
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what it reads.
const CSI = /^\u001b\[([0-?]*)([ -/]*)([@-~])/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
const CSI_UNFINISHED = /^\u001b\[[0-?]*[ -/]*$/;

export class LineEditor {
  readonly #maxLength: number;
  readonly #historySize: number;
  /** The line as code points, so the cursor never splits a surrogate pair. */
  #chars: string[] = [];
  #cursor = 0;
  /** An escape sequence cut in two by the read that carried it. */
  #pending = '';
  readonly #history: string[] = [];
  /** Index into history while browsing it with Up/Down; history.length when on the new line. */
  #browse = 0;
  /** The new line, kept while browsing history. */
  #draft: string[] = [];
  /** Inside a bracketed paste (ESC [200~ … ESC [201~): line breaks are text, not Enter. */
  #pasting = false;
  /** The last character was CR: an LF right after it is the same Enter (CRLF). */
  #lastWasCr = false;

  constructor(options: LineEditorOptions = {}) {
    this.#maxLength = options.maxLength ?? 16_384;
    this.#historySize = options.historySize ?? 100;
  }

  get text(): string {
    return this.#chars.join('');
  }

  /** The cursor, in code points from the start. */
  get cursor(): number {
    return this.#cursor;
  }

  /** The line's code points, for a renderer that measures them. */
  get chars(): readonly string[] {
    return this.#chars;
  }

  /** Empty the line (after a submit done elsewhere, say). */
  clear(): void {
    this.#set([]);
  }

  feed(chunk: string): EditorEvent[] {
    const events: EditorEvent[] = [];
    let input = this.#pending + chunk;
    this.#pending = '';
    const changed = () => {
      if (events.at(-1)?.type !== 'changed') events.push({ type: 'changed' });
    };
    while (input.length > 0) {
      if (input[0] === '\u001b') {
        const consumed = this.#escape(input, changed);
        if (consumed === 0) {
          // Cut in two: wait for the rest. A lone ESC (the key itself) ends the chunk and is dropped.
          if (CSI_UNFINISHED.test(input) || (input.length === 2 && input[1] === 'O')) this.#pending = input;
          break;
        }
        input = input.slice(consumed);
        continue;
      }
      const cp = input.codePointAt(0)!;
      const ch = String.fromCodePoint(cp);
      input = input.slice(ch.length);
      if (this.#pasting && (ch === '\r' || ch === '\n')) {
        // A pasted line break: a space, so a multi-line paste is one message, not several.
        if (this.#insert(' ')) changed();
        continue;
      }
      switch (ch) {
        case '\r':
        case '\n': {
          // A terminal sends CR for Enter; a pasted CRLF is one Enter, not two.
          if (ch === '\n' && this.#lastWasCr) {
            this.#lastWasCr = false;
            continue;
          }
          const line = this.text;
          if (line.trim() !== '') this.#remember(line);
          this.#set([]);
          events.push({ type: 'submit', line });
          break;
        }
        case '\u0003':
          events.push({ type: 'interrupt' });
          break;
        case '\u0004':
          if (this.#chars.length === 0) events.push({ type: 'eof' });
          else if (this.#deleteAt(this.#cursor)) changed();
          break;
        case '\u007f':
        case '\b':
          if (this.#cursor > 0 && this.#deleteAt(this.#cursor - 1)) {
            this.#cursor--;
            changed();
          }
          break;
        case '\u0001':
          if (this.#move(0)) changed();
          break;
        case '\u0005':
          if (this.#move(this.#chars.length)) changed();
          break;
        case '\u0002':
          if (this.#move(this.#cursor - 1)) changed();
          break;
        case '\u0006':
          if (this.#move(this.#cursor + 1)) changed();
          break;
        case '\u0015': // Ctrl-U: everything before the cursor
          if (this.#cursor > 0) {
            this.#chars.splice(0, this.#cursor);
            this.#cursor = 0;
            changed();
          }
          break;
        case '\u000b': // Ctrl-K: everything after it
          if (this.#cursor < this.#chars.length) {
            this.#chars.length = this.#cursor;
            changed();
          }
          break;
        case '\u0017': // Ctrl-W: the word before it
          if (this.#deleteWordBack()) changed();
          break;
        case '\u000c':
          events.push({ type: 'repaint' });
          break;
        case '\u0010': // Ctrl-P, Ctrl-N: history, as Up and Down
          if (this.#historyStep(-1)) changed();
          break;
        case '\u000e':
          if (this.#historyStep(1)) changed();
          break;
        case '\t':
          if (this.#insert(' ')) changed();
          break;
        default:
          // Other control characters (and DEL's C1 cousins) are keys we do not bind, never text.
          if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) break;
          if (this.#insert(ch)) changed();
      }
      this.#lastWasCr = ch === '\r';
    }
    return events;
  }

  /** Handles the escape sequence at the start of `input`; returns its length, 0 if incomplete. */
  #escape(input: string, changed: () => void): number {
    if (input.length < 2) return 0;
    if (input[1] === 'O') {
      // SS3: the application-mode arrows, Home and End.
      if (input.length < 3) return 0;
      this.#key(input[2]!, '', changed);
      return 3;
    }
    if (input[1] !== '[') {
      // Alt-b / Alt-f move by word; any other Alt chord is ignored.
      if (input[1] === 'b' && this.#move(this.#wordStart())) changed();
      else if (input[1] === 'f' && this.#move(this.#wordEnd())) changed();
      else if ((input[1] === '\u007f' || input[1] === '\b') && this.#deleteWordBack()) changed();
      return input.codePointAt(1)! > 0xffff ? 3 : 2;
    }
    const m = CSI.exec(input);
    if (!m) return 0;
    const [whole, params = '', , final = ''] = m;
    if (final === '~' && params === '200') this.#pasting = true;
    else if (final === '~' && params === '201') this.#pasting = false;
    else this.#key(final, params, changed);
    return whole.length;
  }

  /** A cursor or editing key, by its CSI/SS3 final byte and parameters. */
  #key(final: string, params: string, changed: () => void): void {
    // Modifiers come as a second parameter (`1;5C` is Ctrl-Right): those move by word.
    const [first, modifier] = params.split(';');
    const byWord = modifier !== undefined && modifier !== '1';
    let moved = false;
    switch (final) {
      case 'C':
        moved = this.#move(byWord ? this.#wordEnd() : this.#cursor + 1);
        break;
      case 'D':
        moved = this.#move(byWord ? this.#wordStart() : this.#cursor - 1);
        break;
      case 'H':
        moved = this.#move(0);
        break;
      case 'F':
        moved = this.#move(this.#chars.length);
        break;
      case 'A':
        moved = this.#historyStep(-1);
        break;
      case 'B':
        moved = this.#historyStep(1);
        break;
      case '~':
        if (first === '1' || first === '7') moved = this.#move(0);
        else if (first === '4' || first === '8') moved = this.#move(this.#chars.length);
        else if (first === '3') moved = this.#deleteAt(this.#cursor);
        break;
    }
    if (moved) changed();
  }

  #insert(ch: string): boolean {
    if (this.#chars.length >= this.#maxLength) return false;
    this.#chars.splice(this.#cursor, 0, ch);
    this.#cursor++;
    return true;
  }

  #deleteAt(index: number): boolean {
    if (index < 0 || index >= this.#chars.length) return false;
    this.#chars.splice(index, 1);
    return true;
  }

  #move(to: number): boolean {
    const next = Math.max(0, Math.min(this.#chars.length, to));
    if (next === this.#cursor) return false;
    this.#cursor = next;
    return true;
  }

  #wordStart(): number {
    let i = this.#cursor;
    while (i > 0 && this.#chars[i - 1] === ' ') i--;
    while (i > 0 && this.#chars[i - 1] !== ' ') i--;
    return i;
  }

  #wordEnd(): number {
    let i = this.#cursor;
    while (i < this.#chars.length && this.#chars[i] === ' ') i++;
    while (i < this.#chars.length && this.#chars[i] !== ' ') i++;
    return i;
  }

  #deleteWordBack(): boolean {
    const start = this.#wordStart();
    if (start === this.#cursor) return false;
    this.#chars.splice(start, this.#cursor - start);
    this.#cursor = start;
    return true;
  }

  #set(chars: string[]): void {
    this.#chars = chars;
    this.#cursor = chars.length;
    this.#browse = this.#history.length;
  }

  #remember(line: string): void {
    if (this.#history.at(-1) !== line) this.#history.push(line);
    if (this.#history.length > this.#historySize) this.#history.shift();
  }

  #historyStep(delta: -1 | 1): boolean {
    const to = this.#browse + delta;
    if (to < 0 || to > this.#history.length) return false;
    if (this.#browse === this.#history.length) this.#draft = this.#chars;
    this.#browse = to;
    this.#chars = to === this.#history.length ? this.#draft : [...this.#history[to]!];
    this.#cursor = this.#chars.length;
    return true;
  }
}
