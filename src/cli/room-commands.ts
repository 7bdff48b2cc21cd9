// The client commands for rooms, members and history, over the REST door: `rooms`, `room
// create|show|set|delete`, `join`, `leave`, `invite`, `members`, `history`, `edit`, `delete`.
// Each prints a few readable lines, or with --json exactly what the API answered.
import { RestClient } from '../client/rest.js';
import type { Message } from '../core/types.js';
import { UsageError, intFlag, signedIn } from './args.js';
import { oneLine } from './one-line.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const json = (values: Record<string, unknown>, body: unknown): boolean => {
  if (values['json'] !== true) return false;
  out(JSON.stringify(body ?? null));
  return true;
};

function client(values: Record<string, unknown>): { rest: RestClient; me: () => Promise<string> } {
  const { server, token } = signedIn(values);
  const rest = new RestClient({ server, token });
  return { rest, me: async () => (await rest.me()).name };
}

const seqOf = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`SEQ must be a whole number ≥ 1, not ${JSON.stringify(raw)}`);
  return n;
};

/** `#seq  time  author [door]  text`, one line whatever the text holds. */
export function messageLine(m: Message): string {
  const when = m.createdAt.slice(0, 19).replace('T', ' ');
  if (m.deleted) return `#${m.seq}  ${when}  ${m.author}  (deleted)`;
  return `#${m.seq}  ${when}  ${m.author} [${m.via}]${m.editedAt ? ' (edited)' : ''}  ${oneLine(m.text ?? '')}`;
}

export async function rooms(values: Record<string, unknown>): Promise<void> {
  const { rest } = client(values);
  const all = await rest.rooms();
  const shown = values['all'] ? all : all.filter((r) => r.role !== undefined);
  if (json(values, shown)) return;
  if (shown.length === 0)
    out(values['all'] ? 'no rooms' : 'no rooms joined (porthouse rooms --all lists the others)');
  for (const r of shown)
    out(
      `${r.private ? '🔒' : '#'}${r.name}  ${r.role ?? 'not a member'}  last #${r.lastSeq}${r.title ? `  ${oneLine(r.title)}` : ''}`,
    );
}

export async function room(verb: string, name: string, values: Record<string, unknown>) {
  const { rest } = client(values);
  const fields = {
    ...(values['title'] !== undefined ? { title: String(values['title']) } : {}),
    ...(values['topic'] !== undefined ? { topic: String(values['topic']) } : {}),
    ...(values['private'] ? { private: true } : values['public'] ? { private: false } : {}),
  };
  if (values['private'] && values['public']) throw new UsageError('--private or --public, not both');
  switch (verb) {
    case 'create': {
      const r = await rest.createRoom({ name, ...fields });
      if (!json(values, r)) out(`created ${r.private ? 'private' : 'public'} room ${r.name}`);
      return;
    }
    case 'show': {
      const r = await rest.room(name);
      if (json(values, r)) return;
      out(`${r.name}${r.private ? ' (private)' : ''}, owned by ${r.owner}, created ${r.createdAt}`);
      if (r.title) out(`title: ${oneLine(r.title)}`);
      if (r.topic) out(`topic: ${oneLine(r.topic)}`);
      return;
    }
    case 'set': {
      if (Object.keys(fields).length === 0)
        throw new UsageError('room set NAME needs --title, --topic, --private or --public');
      const r = await rest.updateRoom(name, fields);
      if (!json(values, r)) out(`updated ${r.name}`);
      return;
    }
    case 'delete': {
      await rest.deleteRoom(name);
      if (!json(values, { deleted: name })) out(`deleted ${name} and its history`);
      return;
    }
    default:
      throw new UsageError('expected: room create|show|set|delete NAME');
  }
}

export async function join(roomName: string, values: Record<string, unknown>): Promise<void> {
  const { rest, me } = client(values);
  const member = await rest.join(roomName, await me());
  if (!json(values, member)) out(`joined ${roomName}`);
}

export async function leave(roomName: string, values: Record<string, unknown>): Promise<void> {
  const { rest, me } = client(values);
  await rest.removeMember(roomName, await me());
  if (!json(values, { left: roomName })) out(`left ${roomName}`);
}

export async function invite(roomName: string, user: string, values: Record<string, unknown>): Promise<void> {
  const { rest } = client(values);
  const member = await rest.join(roomName, user);
  if (!json(values, member)) out(`${user} is a member of ${roomName}`);
}

export async function members(roomName: string, values: Record<string, unknown>): Promise<void> {
  const { rest } = client(values);
  const list = await rest.members(roomName);
  if (json(values, list)) return;
  for (const m of list) out(`${m.user}  ${m.role}  since ${m.joinedAt}`);
}

/** A page of history, oldest first; the last line says how to page further back. */
export async function history(roomName: string, values: Record<string, unknown>): Promise<void> {
  const { rest } = client(values);
  const before = intFlag(values, 'before', 1);
  const limit = intFlag(values, 'limit', 1);
  const page = await rest.historyPage(roomName, {
    ...(before === undefined ? {} : { before }),
    ...(limit === undefined ? {} : { limit }),
  });
  if (json(values, { messages: page.messages, older: page.older ?? null })) return;
  if (page.messages.length === 0) out('no messages');
  for (const m of page.messages) out(messageLine(m));
  if (page.older)
    process.stderr.write(
      `older: porthouse history ${roomName} --before ${page.older.before}${limit ? ` --limit ${limit}` : ''}\n`,
    );
}

export async function edit(roomName: string, seq: string, text: string, values: Record<string, unknown>) {
  const { rest } = client(values);
  const m = await rest.edit(roomName, seqOf(seq), text);
  if (!json(values, m)) out(`edited #${m.seq} in ${m.room}`);
}

export async function deleteMessage(roomName: string, seq: string, values: Record<string, unknown>) {
  const { rest } = client(values);
  const m = await rest.deleteMessage(roomName, seqOf(seq));
  if (!json(values, m)) out(`deleted #${m.seq} in ${m.room}`);
}
