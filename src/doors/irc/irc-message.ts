// One IRC line as data (RFC 1459/2812 with IRCv3 message tags): parse what a client sent,
// format what the server sends. Pure functions, so they are tested and fuzzed without a socket.

export interface IrcMessage {
  /** IRCv3 tags, unescaped; a tag without a value is ''. */
  readonly tags: ReadonlyMap<string, string>;
  /** The prefix (`nick!user@host` or a server name), without its ':'. */
  readonly source?: string;
  /** Upper-cased: commands are case-insensitive. */
  readonly command: string;
  readonly params: readonly string[];
}

/** The most bytes of a line without its tags, CR LF included (RFC 1459 § 2.3). */
export const MAX_LINE_BYTES = 512;
/** The most bytes of a client's tag section, `@` and the space after it included (IRCv3). */
export const MAX_CLIENT_TAG_BYTES = 4096;

export type ParseResult =
  | { readonly ok: true; readonly message: IrcMessage }
  | { readonly ok: false; readonly problem: 'empty' | 'input_too_long' | 'tags_too_long' | 'no_command' };

const NO_TAGS: ReadonlyMap<string, string> = new Map();

/**
 * Parse one line (without its line ending). Lengths are checked in bytes as the spec counts
 * them: the tag section and the rest separately.
 */
export function parseIrcLine(line: string): ParseResult {
  let at = 0;
  let tags = NO_TAGS;
  if (line.startsWith('@')) {
    const space = line.indexOf(' ');
    const end = space < 0 ? line.length : space;
    if (Buffer.byteLength(line.slice(0, end)) + 1 > MAX_CLIENT_TAG_BYTES)
      return { ok: false, problem: 'tags_too_long' };
    tags = parseTags(line.slice(1, end));
    at = end;
  }
  while (line.charCodeAt(at) === 0x20) at++;
  const rest = line.slice(at);
  // The 512 bytes include the CR LF the splitter took off.
  if (Buffer.byteLength(rest) + 2 > MAX_LINE_BYTES) return { ok: false, problem: 'input_too_long' };
  if (rest === '') return { ok: false, problem: tags === NO_TAGS ? 'empty' : 'no_command' };
  let i = 0;
  let source: string | undefined;
  if (rest.startsWith(':')) {
    const space = rest.indexOf(' ');
    if (space < 0) return { ok: false, problem: 'no_command' };
    source = rest.slice(1, space);
    i = space;
  }
  const params: string[] = [];
  let command: string | undefined;
  const n = rest.length;
  while (i < n) {
    while (rest.charCodeAt(i) === 0x20) i++;
    if (i >= n) break;
    if (command !== undefined && rest.charCodeAt(i) === 0x3a /* : */) {
      params.push(rest.slice(i + 1));
      break;
    }
    let end = rest.indexOf(' ', i);
    if (end < 0) end = n;
    const word = rest.slice(i, end);
    if (command === undefined) command = word.toUpperCase();
    else params.push(word);
    i = end;
  }
  if (command === undefined) return { ok: false, problem: 'no_command' };
  return {
    ok: true,
    message: source === undefined ? { tags, command, params } : { tags, source, command, params },
  };
}

function parseTags(section: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of section.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) tags.set(part, '');
    else tags.set(part.slice(0, eq), unescapeTagValue(part.slice(eq + 1)));
  }
  return tags;
}

export function unescapeTagValue(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = value[++i];
    // A lone trailing backslash is dropped; an unknown escape is the character itself.
    if (next === undefined) break;
    out += next === ':' ? ';' : next === 's' ? ' ' : next === 'r' ? '\r' : next === 'n' ? '\n' : next;
  }
  return out;
}

export function escapeTagValue(value: string): string {
  return value.replace(/[\\; \r\n]/g, (c) =>
    c === '\\' ? '\\\\' : c === ';' ? '\\:' : c === ' ' ? '\\s' : c === '\r' ? '\\r' : '\\n',
  );
}

/** `@a=1;b` from tags in order; '' when there are none. */
export function formatTags(tags: Iterable<readonly [string, string]>): string {
  let out = '';
  for (const [key, value] of tags)
    out += `${out === '' ? '@' : ';'}${value === '' ? key : `${key}=${escapeTagValue(value)}`}`;
  return out === '' ? '' : `${out} `;
}

/**
 * One line, CR LF included. The last parameter gets its ':' when it needs one (empty, a space
 * in it, or a leading ':') or when `trailing` says it is free text (a numeric's message).
 */
export function formatIrcLine(
  source: string | undefined,
  command: string,
  params: readonly string[],
  options: { readonly tags?: string; readonly trailing?: boolean } = {},
): string {
  let out = options.tags ?? '';
  if (source !== undefined) out += `:${source} `;
  out += command;
  const last = params.length - 1;
  for (let i = 0; i <= last; i++) {
    const p = params[i]!;
    const colon =
      i === last && (options.trailing === true || p === '' || p.includes(' ') || p.startsWith(':'));
    out += colon ? ` :${p}` : ` ${p}`;
  }
  return `${out}\r\n`;
}

/**
 * Split free text into pieces that each fit in `maxBytes` of UTF-8, cutting only between code
 * points; line breaks start a new piece and empty pieces are dropped (IRC has no multi-line
 * message, and a NUL, CR or LF inside a line would end or corrupt it).
 */
export function splitText(text: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.includes('\0') ? raw.replaceAll('\0', '') : raw;
    if (line === '') continue;
    if (line.length * 3 <= maxBytes || Buffer.byteLength(line) <= maxBytes) {
      pieces.push(line);
      continue;
    }
    let piece = '';
    let bytes = 0;
    for (const ch of line) {
      const size = Buffer.byteLength(ch);
      if (bytes + size > maxBytes && piece !== '') {
        pieces.push(piece);
        piece = '';
        bytes = 0;
      }
      piece += ch;
      bytes += size;
    }
    if (piece !== '') pieces.push(piece);
  }
  return pieces;
}
