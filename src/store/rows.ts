// Rows as both SQL adapters read them, and their mapping to the records the Store returns.
// Times are epoch milliseconds; flags are 0/1 in SQLite and booleans in PostgreSQL.
import { createHash } from 'node:crypto';
import type { Member, MessageRecord, Role, RoomRecord, UserRecord, Via } from '../core/types.js';

export interface RoomRow {
  id: number;
  name: string;
  title: string;
  topic: string;
  private: number | boolean;
  owner: string;
  created_at: number;
  updated_at: number;
  version: number;
  members_version: number;
  messages_version: number;
  last_seq: number;
}

export interface MessageRow {
  seq: number;
  id: string;
  author: string;
  text: string | null;
  via: string;
  created_at: number;
  edited_at: number | null;
  deleted: number | boolean;
  version: number;
}

export interface UserRow {
  name: string;
  password_hash: string | null;
  admin: number | boolean;
  created_at: number;
}

export interface MemberRow {
  user: string;
  role: string;
  joined_at: number;
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const textHash = (text: string) => createHash('sha256').update(text).digest('base64url');

export const toRoom = (r: RoomRow): RoomRecord => ({
  id: r.id,
  name: r.name,
  title: r.title,
  topic: r.topic,
  private: Boolean(r.private),
  owner: r.owner,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  version: r.version,
  membersVersion: r.members_version,
  messagesVersion: r.messages_version,
  lastSeq: r.last_seq,
});

export function toMessage(room: string, r: MessageRow): MessageRecord {
  const m: MessageRecord = {
    room,
    seq: r.seq,
    id: r.id,
    author: r.author,
    via: r.via as Via,
    createdAt: iso(r.created_at),
    version: r.version,
  };
  if (r.deleted) m.deleted = true;
  else m.text = r.text ?? '';
  if (r.edited_at !== null) m.editedAt = iso(r.edited_at);
  return m;
}

export const toUser = (r: UserRow): UserRecord => ({
  name: r.name,
  admin: Boolean(r.admin),
  createdAt: iso(r.created_at),
  passwordHash: r.password_hash,
});

export const toMember = (room: string, r: MemberRow): Member => ({
  room,
  user: r.user,
  role: r.role as Role,
  joinedAt: iso(r.joined_at),
});

/** The record of a message just appended (what the insert wrote, without reading it back). */
export const newMessageRecord = (
  room: string,
  seq: number,
  id: string,
  message: { readonly author: string; readonly text: string; readonly via: Via },
  now: number,
): MessageRecord => ({
  room,
  seq,
  id,
  author: message.author,
  text: message.text,
  via: message.via,
  createdAt: iso(now),
  version: 1,
});
