// The domain's shapes, as every door shows them. Internal bookkeeping (ids, versions) stays on
// the *Record types and never reaches a client except through an ETag.

/** The door a message came through. */
export type Via = 'http' | 'ws' | 'tcp' | 'udp' | 'irc';
export const VIAS: readonly Via[] = ['http', 'ws', 'tcp', 'udp', 'irc'];

export type Role = 'owner' | 'member';

/** Who is asking: what a verified token says, nothing more (REST stays stateless). */
export interface Actor {
  readonly name: string;
  readonly admin: boolean;
}

export interface User {
  name: string;
  admin: boolean;
  createdAt: string;
}

export interface UserRecord extends User {
  passwordHash: string | null;
}

export interface Room {
  name: string;
  title: string;
  topic: string;
  private: boolean;
  owner: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * A room as listed: its fields plus the highest seq, so a client can count unread messages in
 * every room from one request. The room resource itself leaves lastSeq out, so its ETag (and
 * If-Match) changes only when the room's own fields do, not with every message.
 */
export interface RoomSummary extends Room {
  /** Highest seq stored in the room (0 when empty). */
  lastSeq: number;
  /** The caller's role in the room; absent when the caller is not a member. */
  role?: Role;
}

export interface RoomRecord extends RoomSummary {
  /** Never reused, so a room deleted and created again under its name gets fresh ETags. */
  id: number;
  /** Bumped by every change to the room's own fields. */
  version: number;
  /** Bumped by every join and leave. */
  membersVersion: number;
  /** Bumped by every message stored, edited or deleted. */
  messagesVersion: number;
}

export interface Member {
  room: string;
  user: string;
  role: Role;
  joinedAt: string;
}

export interface Message {
  room: string;
  seq: number;
  id: string;
  author: string;
  text?: string;
  via: Via;
  createdAt: string;
  editedAt?: string;
  deleted?: boolean;
}

export interface MessageRecord extends Message {
  /** Bumped by every edit and by deletion. */
  version: number;
}

export const publicRoom = (r: RoomRecord): Room => ({
  name: r.name,
  title: r.title,
  topic: r.topic,
  private: r.private,
  owner: r.owner,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export const roomSummary = (r: RoomRecord): RoomSummary => {
  const summary: RoomSummary = { ...publicRoom(r), lastSeq: r.lastSeq };
  if (r.role !== undefined) summary.role = r.role;
  return summary;
};

export function publicMessage(m: MessageRecord): Message {
  const out: Message = {
    room: m.room,
    seq: m.seq,
    id: m.id,
    author: m.author,
    via: m.via,
    createdAt: m.createdAt,
  };
  if (m.deleted) out.deleted = true;
  else out.text = m.text ?? '';
  if (m.editedAt) out.editedAt = m.editedAt;
  return out;
}

/**
 * One live socket as a five-tuple (protocol, local address, local port, remote address, remote
 * port) with what porthouse knows of it. Listening sockets have no remote end.
 */
export interface SocketInfo {
  protocol: 'tcp' | 'udp';
  door: 'http' | 'ws' | 'sse' | 'tcp' | 'udp' | 'irc';
  /** `subscribed`: a UDP address registered for events (UDP has no connections). */
  state: 'listening' | 'connected' | 'subscribed';
  localAddress: string;
  localPort: number;
  remoteAddress?: string;
  remotePort?: number;
  user?: string;
  rooms?: string[];
  bytesIn?: number;
  bytesOut?: number;
  since?: string;
}
