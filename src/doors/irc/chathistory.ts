// IRCv3 draft/chathistory: CHATHISTORY LATEST/BEFORE/AFTER/AROUND/BETWEEN/TARGETS served from
// the store by seq, so a client that reconnects fills its gap. Parsing is pure; answering reads
// history pages through the services, as REST does.
import type { Actor, MessageRecord, RoomRecord } from '../../core/types.js';
import type { Services } from '../../service/services.js';
import { parseMsgid, roomOf } from './event-lines.js';

/** A point in a room's history: a message by id, a time, or `*` (none: the newest end). */
export type HistoryRef =
  | { readonly kind: 'msgid'; readonly room: string; readonly seq: number }
  | { readonly kind: 'timestamp'; readonly time: string }
  | { readonly kind: 'none' };

export type HistoryRequest =
  | {
      readonly sub: 'LATEST' | 'BEFORE' | 'AFTER' | 'AROUND';
      readonly target: string;
      readonly room: string | undefined;
      readonly ref: HistoryRef;
      readonly limit: number;
    }
  | {
      readonly sub: 'BETWEEN';
      readonly target: string;
      readonly room: string | undefined;
      readonly from: HistoryRef;
      readonly to: HistoryRef;
      readonly limit: number;
    }
  | { readonly sub: 'TARGETS'; readonly from: string; readonly to: string; readonly limit: number };

export type HistoryParse =
  | { readonly ok: true; readonly request: HistoryRequest }
  | { readonly ok: false; readonly code: 'INVALID_PARAMS' | 'UNKNOWN_COMMAND'; readonly message: string };

const invalid = (message: string): HistoryParse => ({ ok: false, code: 'INVALID_PARAMS', message });

function parseRef(word: string | undefined, allowNone: boolean): HistoryRef | undefined {
  if (word === undefined) return undefined;
  if (word === '*') return allowNone ? { kind: 'none' } : undefined;
  if (word.startsWith('msgid=')) {
    const id = parseMsgid(word.slice(6));
    return id ? { kind: 'msgid', ...id } : undefined;
  }
  if (word.startsWith('timestamp=')) {
    const time = word.slice(10);
    return Number.isNaN(Date.parse(time))
      ? undefined
      : { kind: 'timestamp', time: new Date(time).toISOString() };
  }
  return undefined;
}

function parseLimit(word: string | undefined, max: number): number | undefined {
  if (word === undefined || !/^\d{1,9}$/.test(word)) return undefined;
  return Math.min(Number(word), max);
}

/** CHATHISTORY's parameters as a request, or the FAIL code to answer with. */
export function parseChathistory(params: readonly string[], maxLimit: number): HistoryParse {
  const sub = params[0]?.toUpperCase();
  if (sub === 'TARGETS') {
    const from = parseRef(params[1], false);
    const to = parseRef(params[2], false);
    const limit = parseLimit(params[3], maxLimit);
    if (from?.kind !== 'timestamp' || to?.kind !== 'timestamp' || limit === undefined)
      return invalid('TARGETS takes two timestamps and a limit.');
    return { ok: true, request: { sub, from: from.time, to: to.time, limit } };
  }
  if (sub !== 'LATEST' && sub !== 'BEFORE' && sub !== 'AFTER' && sub !== 'AROUND' && sub !== 'BETWEEN')
    return { ok: false, code: 'UNKNOWN_COMMAND', message: `Unknown subcommand ${params[0] ?? ''}.`.trim() };
  const target = params[1];
  if (target === undefined) return invalid('A target is required.');
  const room = roomOf(target);
  if (sub === 'BETWEEN') {
    const from = parseRef(params[2], false);
    const to = parseRef(params[3], false);
    const limit = parseLimit(params[4], maxLimit);
    if (!from || !to || limit === undefined) return invalid('BETWEEN takes two references and a limit.');
    return { ok: true, request: { sub, target, room, from, to, limit } };
  }
  const ref = parseRef(params[2], sub === 'LATEST');
  const limit = parseLimit(params[3], maxLimit);
  if (!ref || limit === undefined)
    return invalid(
      `${sub} takes a reference (msgid=, timestamp=${sub === 'LATEST' ? ' or *' : ''}) and a limit.`,
    );
  return { ok: true, request: { sub, target, room, ref, limit } };
}

/**
 * The first seq whose message was stored after `time` (or at it, with `orAt`); lastSeq + 1 when
 * none was. Seqs are stored in time order, so this bisects them.
 */
async function firstSeqAfter(
  services: Services,
  room: RoomRecord,
  time: string,
  orAt: boolean,
): Promise<number> {
  let lo = 1;
  let hi = room.lastSeq + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [m] = await services.messages.history(room, { after: mid - 1, limit: 1 });
    if (!m) {
      hi = mid;
      continue;
    }
    if (m.createdAt < time || (!orAt && m.createdAt === time)) lo = m.seq + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The bounds a reference sets, both exclusive as the specification asks: messages after it have
 * seqs above `low`, messages before it seqs below `high`. A msgid is its own seq on both sides;
 * `undefined` when it names another room.
 */
async function boundsOf(
  services: Services,
  room: RoomRecord,
  ref: HistoryRef,
): Promise<{ low: number; high: number } | undefined> {
  if (ref.kind === 'none') return { low: 0, high: room.lastSeq + 1 };
  if (ref.kind === 'msgid') return ref.room === room.name ? { low: ref.seq, high: ref.seq } : undefined;
  const high = await firstSeqAfter(services, room, ref.time, true);
  const low = (await firstSeqAfter(services, room, ref.time, false)) - 1;
  return { low, high };
}

/** The messages a request names in one room, ascending; tombstones are left out. */
export async function readHistory(
  services: Services,
  room: RoomRecord,
  request: Exclude<HistoryRequest, { sub: 'TARGETS' }>,
): Promise<MessageRecord[] | undefined> {
  const { limit } = request;
  let page: MessageRecord[] = [];
  if (limit > 0) {
    if (request.sub === 'BETWEEN') {
      const from = await boundsOf(services, room, request.from);
      const to = await boundsOf(services, room, request.to);
      if (from === undefined || to === undefined) return undefined;
      if (from.low + 1 < to.high)
        // Forwards: the oldest `limit` messages past `from`.
        page = (await services.messages.history(room, { after: from.low, limit })).filter(
          (m) => m.seq < to.high,
        );
      else if (to.low + 1 < from.high)
        // Backwards: the newest `limit` messages before `from`.
        page = (await services.messages.history(room, { before: from.high, limit })).filter(
          (m) => m.seq > to.low,
        );
    } else {
      const at = await boundsOf(services, room, request.ref);
      if (at === undefined) return undefined;
      if (request.sub === 'BEFORE') page = await services.messages.history(room, { before: at.high, limit });
      else if (request.sub === 'AFTER')
        page = await services.messages.history(room, { after: at.low, limit });
      else if (request.sub === 'LATEST') {
        const latest = await services.messages.history(room, { before: room.lastSeq + 1, limit });
        page = latest.filter((m) => m.seq > at.low);
      } else {
        // AROUND a msgid: it and its neighbours; around a time: the messages either side of it.
        const before = Math.floor(limit / 2);
        const older =
          before > 0 ? await services.messages.history(room, { before: at.high, limit: before }) : [];
        const newer = await services.messages.history(room, {
          after: at.high - 1,
          limit: limit - older.length,
        });
        page = [...older, ...newer];
      }
    }
  }
  // What is shown is durable first, as every read of history is.
  await services.untilDurable();
  return page.filter((m) => !m.deleted);
}

/** TARGETS: the rooms with messages between two times, each with its latest message's time. */
export async function historyTargets(
  services: Services,
  actor: Actor,
  from: string,
  to: string,
  limit: number,
): Promise<{ room: string; time: string }[]> {
  const [low, high] = from <= to ? [from, to] : [to, from];
  const rooms = (await services.rooms.list(actor)).filter((r) => r.role !== undefined && r.lastSeq > 0);
  const found: { room: string; time: string }[] = [];
  for (const room of rooms) {
    const [last] = await services.messages.history(room, { before: room.lastSeq + 1, limit: 1 });
    if (last && last.createdAt >= low && last.createdAt <= high)
      found.push({ room: room.name, time: last.createdAt });
  }
  found.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  await services.untilDurable();
  return found.slice(0, limit);
}
