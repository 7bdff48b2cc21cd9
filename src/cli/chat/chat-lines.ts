// How the chat shows things: a message, an edit, a notice, on one terminal line each, and how
// wide a string is on screen. Pure; the screen decides where the lines go.
import type { Message } from '../../core/types.js';
import { oneLine } from '../one-line.js';

/** Colours for a terminal that has them; PLAIN for pipes, files and NO_COLOR. */
export interface Style {
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
  /** A colour of its own for each name, the same every time. */
  readonly name: (s: string) => string;
}

export const PLAIN: Style = { dim: (s) => s, bold: (s) => s, name: (s) => s };

const PALETTE = [31, 32, 33, 34, 35, 36];
export const ANSI: Style = {
  dim: (s) => `\u001b[2m${s}\u001b[22m`,
  bold: (s) => `\u001b[1m${s}\u001b[22m`,
  name: (s) => {
    let h = 0;
    for (const c of s) h = (h * 31 + c.codePointAt(0)!) >>> 0;
    return `\u001b[${PALETTE[h % PALETTE.length]}m${s}\u001b[39m`;
  },
};

/** HH:MM in the user's time zone (TZ). */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '--:--';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

const ACTION = /^\/me (.+)$/s;

export interface LineContext {
  readonly style: Style;
  /** The room being talked in: lines of other rooms name theirs. */
  readonly current: string;
}

const roomTag = (room: string, ctx: LineContext) =>
  room === ctx.current ? '' : `${ctx.style.bold(`[#${room}]`)} `;

/** A stored message (history or live): `#7 12:34 ada [ws] hello`, `* ada waves` for `/me`. */
export function messageLine(m: Message, ctx: LineContext): string {
  const { style } = ctx;
  const head = `${roomTag(m.room, ctx)}${style.dim(`#${m.seq} ${clockTime(m.createdAt)}`)}`;
  const badge = style.dim(`[${m.via}]`);
  if (m.deleted) return `${head} ${style.name(m.author)} ${badge} ${style.dim('(deleted)')}`;
  const text = oneLine(m.text ?? '');
  const edited = m.editedAt ? ` ${style.dim('(edited)')}` : '';
  const action = ACTION.exec(text);
  if (action) return `${head} * ${style.name(m.author)} ${action[1]} ${badge}${edited}`;
  return `${head} ${style.name(m.author)} ${badge} ${text}${edited}`;
}

/** A live edit of a message shown earlier (or not). */
export function editLine(m: Message, ctx: LineContext): string {
  return `${roomTag(m.room, ctx)}${ctx.style.dim(`#${m.seq} edited by ${m.author}:`)} ${oneLine(m.text ?? '')}`;
}

export function deleteLine(room: string, seq: number, by: string | undefined, ctx: LineContext): string {
  return `${roomTag(room, ctx)}${ctx.style.dim(`#${seq} deleted${by ? ` by ${by}` : ''}`)}`;
}

/** Something about the chat rather than a message: arrivals, reconnects, errors. */
export function noticeLine(text: string, ctx: LineContext, room?: string): string {
  return `${room ? roomTag(room, ctx) : ''}${ctx.style.dim(`-- ${oneLine(text)}`)}`;
}

/** The chat's output, one line per thing shown: text for people, or JSON for scripts (--json). */
export interface ChatView {
  message(m: Message): string;
  edit(m: Message): string;
  deleted(room: string, seq: number, by: string | undefined): string;
  notice(text: string, room?: string): string;
}

/** Text lines; `ctx` is read at each line, as the room talked in changes. */
export function textView(ctx: () => LineContext): ChatView {
  return {
    message: (m) => messageLine(m, ctx()),
    edit: (m) => editLine(m, ctx()),
    deleted: (room, seq, by) => deleteLine(room, seq, by, ctx()),
    notice: (text, room) => noticeLine(text, ctx(), room),
  };
}

/** One JSON object per line: messages and edits as the API shows them, notices as `{type: "notice"}`. */
export const JSON_VIEW: ChatView = {
  message: (m) => JSON.stringify({ type: 'msg', ...m }),
  edit: (m) => JSON.stringify({ type: 'edit', ...m }),
  deleted: (room, seq, by) =>
    JSON.stringify(by === undefined ? { type: 'del', room, seq } : { type: 'del', room, seq, by }),
  notice: (text, room) =>
    JSON.stringify(room === undefined ? { type: 'notice', text } : { type: 'notice', room, text }),
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: SGR sequences take no cells.
const SGR = /\u001b\[[0-9;]*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
const SGR_AT_START = /^\u001b\[[0-9;]*m/;
const ZERO_WIDTH = /\p{Mn}|\p{Me}|[\u200b-\u200f]/u;
const WIDE =
  /[\p{Extended_Pictographic}\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

/** Terminal cells one code point takes: 0 for combining marks, 2 for wide (CJK, emoji), else 1. */
export function cellWidth(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

/** Cells a string takes, colour codes aside. */
export function textWidth(s: string): number {
  let w = 0;
  for (const ch of s.replace(SGR, '')) w += cellWidth(ch);
  return w;
}

/** Cut to `columns` cells (colour codes kept, then reset), ending in … when cut. */
export function fitWidth(s: string, columns: number): string {
  if (textWidth(s) <= columns) return s;
  let out = '';
  let w = 0;
  for (let i = 0; i < s.length; ) {
    const sgr = SGR_AT_START.exec(s.slice(i));
    if (sgr) {
      out += sgr[0];
      i += sgr[0].length;
      continue;
    }
    const ch = String.fromCodePoint(s.codePointAt(i)!);
    const cw = cellWidth(ch);
    if (w + cw > columns - 1) break;
    out += ch;
    w += cw;
    i += ch.length;
  }
  return `${out}…${out.includes('\u001b[') ? '\u001b[0m' : ''}`;
}
