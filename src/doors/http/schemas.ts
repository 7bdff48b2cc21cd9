// Every REST body, parameter and response, declared once: fastify validates requests with these,
// serializes responses with them, and @fastify/swagger turns them into /openapi.json.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../auth/password.js';
import { VIAS } from '../../core/types.js';
import { RoomName, UserName } from '../../protocol/frames.js';
import { ErrorResponse } from '../fastify-app.js';

export { ErrorResponse, RoomName, UserName };

export const MAX_TITLE_LENGTH = 100;
export const MAX_TOPIC_LENGTH = 500;
export const MAX_PAGE_SIZE = 200;

const closed = { additionalProperties: false } as const;

const Title = Type.String({ minLength: 1, maxLength: MAX_TITLE_LENGTH });
const Topic = Type.String({ maxLength: MAX_TOPIC_LENGTH });
const Timestamp = Type.String({ format: 'date-time' });
// No minLength: empty text is blank text, refused by the core rule as text_invalid either way.
const Text = Type.String({
  description:
    'Message text: not blank (empty or only white space is text_invalid), well-formed Unicode, at most `maxTextLength` (default 4000) code points.',
});

export const Registration = Type.Object(
  {
    name: UserName,
    password: Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH }),
  },
  closed,
);
export const Credentials = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ maxLength: MAX_PASSWORD_LENGTH }),
  },
  closed,
);
export const User = Type.Object({ name: Type.String(), admin: Type.Boolean(), createdAt: Timestamp });
export const Me = Type.Object({ name: Type.String(), admin: Type.Boolean() });
export const UserPatch = Type.Object({ admin: Type.Boolean() }, closed);
export const Token = Type.Object({ token: Type.String(), expiresAt: Timestamp });

const roomFields = {
  name: Type.String(),
  title: Type.String(),
  topic: Type.String(),
  private: Type.Boolean(),
  owner: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};
export const Room = Type.Object(roomFields);
export const RoomSummary = Type.Object({
  ...roomFields,
  lastSeq: Type.Integer({ minimum: 0 }),
  role: Type.Optional(
    Type.Union([Type.Literal('owner'), Type.Literal('member')], {
      description: 'Your role in the room; absent when you are not a member.',
    }),
  ),
});
export const NewRoom = Type.Object(
  {
    name: RoomName,
    title: Type.Optional(Title),
    topic: Type.Optional(Topic),
    private: Type.Optional(Type.Boolean()),
  },
  closed,
);
/** PUT: every writable field; the read-only ones a client echoes back from GET are ignored. */
export const RoomReplacement = Type.Object(
  {
    title: Title,
    topic: Topic,
    private: Type.Boolean(),
    name: Type.Optional(Type.String({ readOnly: true })),
    owner: Type.Optional(Type.String({ readOnly: true })),
    createdAt: Type.Optional(Type.String({ readOnly: true })),
    updatedAt: Type.Optional(Type.String({ readOnly: true })),
  },
  closed,
);
/** RFC 7396 merge patch: null resets a field to its default. */
export const RoomPatch = Type.Object(
  {
    title: Type.Optional(Type.Union([Title, Type.Null()])),
    topic: Type.Optional(Type.Union([Topic, Type.Null()])),
    private: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  },
  closed,
);

export const Member = Type.Object({
  room: Type.String(),
  user: Type.String(),
  role: Type.Union([Type.Literal('owner'), Type.Literal('member')]),
  joinedAt: Timestamp,
});

export const Message = Type.Object({
  room: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  id: Type.String(),
  author: Type.String(),
  text: Type.Optional(Type.String()),
  via: Type.Union(VIAS.map((v) => Type.Literal(v))),
  createdAt: Timestamp,
  editedAt: Type.Optional(Timestamp),
  deleted: Type.Optional(Type.Boolean()),
});
export const NewMessage = Type.Object({ text: Text }, closed);
export const MessageEdit = Type.Object({ text: Text }, closed);

export const RoomParams = Type.Object({ room: RoomName });
export const MemberParams = Type.Object({ room: RoomName, user: UserName });
export const MessageParams = Type.Object({ room: RoomName, seq: Type.Integer({ minimum: 1 }) });
export const UserParams = Type.Object({ user: UserName });

export const HistoryQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: 'The first `limit` messages with seq > after.' }),
    ),
    before: Type.Optional(
      Type.Integer({ minimum: 1, description: 'The last `limit` messages with seq < before.' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
  },
  closed,
);

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'A retry with the same key from the same user returns the original message.',
    }),
  ),
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable error code; see docs/protocol.md.' }),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details.' },
);

export type RegistrationBody = Static<typeof Registration>;
export type NewRoomBody = Static<typeof NewRoom>;

/** Every route's error answer, for the OpenAPI document. */

const Nullable = (t: TSchema) => Type.Union([t, Type.Null()]);
export const TcpTransportState = Type.Object(
  {
    rttMs: Nullable(Type.Number()),
    rttVarMs: Nullable(Type.Number()),
    cwnd: Nullable(Type.Integer()),
    retransmits: Nullable(Type.Integer()),
    bytesInFlight: Nullable(Type.Integer()),
    notSent: Nullable(Type.Integer()),
    sendQueue: Type.Integer(),
    receiveQueue: Type.Integer(),
  },
  {
    description:
      'TCP_INFO as the kernel reports it (`ss -tin`): smoothed RTT and its variance (ms), congestion window (segments), segments retransmitted, bytes sent and not acknowledged, bytes written and not yet sent, Send-Q and Recv-Q (bytes).',
  },
);
export const UdpTransportState = Type.Object(
  { receiveQueue: Type.Integer(), sendQueue: Type.Integer(), drops: Type.Integer() },
  {
    description:
      'A UDP socket in /proc/net/udp: queued bytes each way, datagrams dropped for a full receive buffer.',
  },
);

export const SocketEntry = Type.Object({
  protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
  door: Type.Union(['http', 'ws', 'sse', 'tcp', 'udp', 'irc'].map((d) => Type.Literal(d))),
  state: Type.Union([Type.Literal('listening'), Type.Literal('connected'), Type.Literal('subscribed')]),
  localAddress: Type.String(),
  localPort: Type.Integer(),
  remoteAddress: Type.Optional(Type.String()),
  remotePort: Type.Optional(Type.Integer()),
  user: Type.Optional(Type.String()),
  rooms: Type.Optional(Type.Array(Type.String())),
  bytesIn: Type.Optional(Type.Integer()),
  bytesOut: Type.Optional(Type.Integer()),
  since: Type.Optional(Timestamp),
  transport: Type.Optional(Type.Union([TcpTransportState, UdpTransportState, Type.Null()])),
});
export const SocketList = Type.Object({ sockets: Type.Array(SocketEntry) });

export const DoorEntry = Type.Object(
  {
    door: Type.Union(['http', 'ws', 'sse', 'tcp', 'udp', 'irc'].map((d) => Type.Literal(d))),
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    tls: Type.Boolean(),
    path: Type.Optional(Type.String({ description: 'Where on the HTTP port the door is (ws, sse).' })),
  },
  {
    description: 'One door of this node: the transport and port a client reaches it on, at the host it used.',
  },
);
export const DoorList = Type.Object({ doors: Type.Array(DoorEntry) });

export const Trace = Type.Object(
  {
    room: RoomName,
    seq: Type.Integer({ minimum: 1 }),
    door: Nullable(Type.String()),
    wireBytes: Nullable(Type.Integer()),
    framing: Nullable(Type.String()),
    startedAt: Timestamp,
    stages: Type.Array(
      Type.Object({
        stage: Type.Union(
          ['received', 'decoded', 'stored', 'durable', 'acked', 'published'].map((s) => Type.Literal(s)),
        ),
        at: Timestamp,
        ms: Type.Number(),
      }),
    ),
    fanout: Type.Array(
      Type.Object({
        door: Type.String(),
        recipients: Type.Integer(),
        bytesPerRecipient: Type.Integer(),
        queuedMs: Type.Number(),
        firstWriteMs: Nullable(Type.Number()),
        lastWriteMs: Nullable(Type.Number()),
      }),
    ),
  },
  {
    description:
      "A message's journey on this node: the door it came in by and its bytes on the wire with that door's framing (null when it came over the bus from another node), each stage's time and its ms after the start, and per door the recipients it was handed to, the bytes each got, and when it was queued and first and last written.",
  },
);
