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

/** One TCP connection as TCP_INFO describes it; null where this kernel or ss does not say. */
export interface TcpTransport {
  /** Smoothed round-trip time and its variance, milliseconds. */
  readonly rttMs: number | null;
  readonly rttVarMs: number | null;
  /** Congestion window, in segments. */
  readonly cwnd: number | null;
  /** Segments retransmitted over the connection's life. */
  readonly retransmits: number | null;
  /** Sent and not yet acknowledged, bytes. */
  readonly bytesInFlight: number | null;
  /** Bytes the application wrote that the kernel has not sent yet (`notsent`). */
  readonly notSent: number | null;
  /** Send-Q and Recv-Q: bytes not acknowledged by the peer, bytes not read by the application. */
  readonly sendQueue: number;
  readonly receiveQueue: number;
}

/** The kernel's view of a UDP socket. */
export interface UdpTransport {
  /** Bytes queued for the application to read. */
  readonly receiveQueue: number;
  readonly sendQueue: number;
  /** Datagrams dropped because the receive buffer was full. */
  readonly drops: number;
}

/** One door of a node as a client finds it (GET /v1/doors): at the host it used, on this port. */
export interface DoorInfo {
  readonly door: SocketInfo['door'];
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  readonly tls: boolean;
  /** On the HTTP port: where the door's path is (ws, sse). */
  readonly path?: string;
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
  /**
   * The kernel's view: TCP_INFO for a TCP connection, queues and drops for a UDP socket; null
   * where the platform cannot say. Absent on TCP listening sockets.
   */
  transport?: TcpTransport | UdpTransport | null;
}
