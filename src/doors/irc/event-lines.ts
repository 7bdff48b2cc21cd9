// What the hub's room events look like to an IRC client: a message becomes PRIVMSG lines from
// its author (ACTION for `/me`), an edit a NOTICE replying to the original, a deletion a REDACT
// (or a NOTICE to clients without message-redaction). Built once per event and line variant.
import { isRoomName, isUserName } from '../../core/names.js';
import type { Message } from '../../core/types.js';
import { WIRE } from './capabilities.js';
import { MAX_LINE_BYTES, escapeTagValue, splitText } from './irc-message.js';

/** `#general` for room `general`. */
export const channelOf = (room: string) => `#${room}`;

/**
 * The room a channel names, or undefined: `#` and a room name; ASCII letters fold to lower case
 * (CASEMAPPING=ascii), so `#General` is `general`.
 */
export function roomOf(channel: string): string | undefined {
  if (!channel.startsWith('#')) return undefined;
  const room = channel.slice(1).replace(/[A-Z]/g, (c) => c.toLowerCase());
  return isRoomName(room) ? room : undefined;
}

/** A nick as a user name: ASCII folded to lower case; undefined when it cannot be one. */
export function userOf(nick: string): string | undefined {
  const name = nick.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return isUserName(name) ? name : undefined;
}

/** Every user shows as `name!name@host`: the account is the nick, the ident and the only name. */
export const mask = (user: string, host: string) => `${user}!${user}@${host}`;

/** A message's IRC id: its room and seq, both stable for as long as the message exists. */
export const msgidOf = (room: string, seq: number) => `${room}:${seq}`;

/** The room and seq a msgid names, if it is one of ours. */
export function parseMsgid(msgid: string): { room: string; seq: number } | undefined {
  const colon = msgid.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const seq = Number(msgid.slice(colon + 1));
  if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
  return { room: msgid.slice(0, colon), seq };
}

/** The tags a line variant carries for a message, in the order servers usually send them. */
function messageTags(variant: number, m: Message, time: string, extra: string): string {
  const parts: string[] = [];
  if (extra !== '') parts.push(extra);
  if (variant & WIRE.time) parts.push(`time=${time}`);
  if (variant & WIRE.msgid) parts.push(`msgid=${escapeTagValue(msgidOf(m.room, m.seq))}`);
  if (variant & WIRE.account) parts.push(`account=${m.author}`);
  return parts.length === 0 ? '' : `@${parts.join(';')} `;
}

const ACTION = /^\/me (.+)$/s;

/**
 * A stored message as the PRIVMSG lines a client reads: one per line of its text, each cut to
 * fit 512 bytes. `/me waves` goes out as a CTCP ACTION. `extraTags` (a batch, a label) come
 * first; the first line alone carries the msgid, so no id names two lines.
 */
export function messageLines(m: Message, variant: number, host: string, extraTags = ''): string {
  const source = `:${mask(m.author, host)}`;
  const action = ACTION.exec(m.text ?? '');
  const body = action ? action[1]! : (m.text ?? '');
  const head = `${source} PRIVMSG ${channelOf(m.room)} :`;
  // CTCP's two \x01 bytes and the ACTION word take room from the text.
  const room = MAX_LINE_BYTES - 2 - Buffer.byteLength(head) - (action ? 9 : 0);
  const pieces = splitText(body, Math.max(room, 16));
  let out = '';
  pieces.forEach((piece, i) => {
    const tags =
      i === 0
        ? messageTags(variant, m, m.createdAt, extraTags)
        : messageTags(variant & ~WIRE.msgid, m, m.createdAt, extraTags);
    out += `${tags}${head}${action ? `\x01ACTION ${piece}\x01` : piece}\r\n`;
  });
  return out;
}

/** An edit: a NOTICE from the author with the new text, replying to the message it changed. */
export function editLines(m: Message, variant: number, host: string): string {
  const parts: string[] = [];
  if (variant & WIRE.tags) parts.push(`+draft/reply=${escapeTagValue(msgidOf(m.room, m.seq))}`);
  if (variant & WIRE.time) parts.push(`time=${m.editedAt ?? m.createdAt}`);
  if (variant & WIRE.account) parts.push(`account=${m.author}`);
  const tags = parts.length === 0 ? '' : `@${parts.join(';')} `;
  const head = `:${mask(m.author, host)} NOTICE ${channelOf(m.room)} :`;
  const pieces = splitText(
    `(edited #${m.seq}) ${m.text ?? ''}`,
    MAX_LINE_BYTES - 2 - Buffer.byteLength(head),
  );
  return pieces.map((p) => `${tags}${head}${p}\r\n`).join('');
}

/** Bit for clients that take draft/message-redaction (a deletion's line differs for them). */
export const REDACTION = 16;

/** A deletion: REDACT for clients that understand it, otherwise a NOTICE in the channel. */
export function deletionLine(
  room: string,
  seq: number,
  variant: number,
  server: string,
  by: string | undefined,
): string {
  const id = msgidOf(room, seq);
  // From whoever deleted it, as a REDACT from a user reads; the server when that is unknown.
  if (variant & REDACTION) return `:${by ? mask(by, server) : server} REDACT ${channelOf(room)} ${id}\r\n`;
  return `:${server} NOTICE ${channelOf(room)} :Message #${seq} (${id}) was deleted.\r\n`;
}
