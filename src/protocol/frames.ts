// Every frame of the WebSocket, TCP and UDP doors, declared once: these schemas validate what
// clients send, type both directions, and generate docs/frames.md.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { ROOM_NAME_PATTERN, USER_NAME_PATTERN } from '../core/names.js';
import { VIAS } from '../core/types.js';

const closed = { additionalProperties: false } as const;

/** Longest `ref` a client may attach; it is echoed back and kept as an idempotency key. */
export const MAX_REF_LENGTH = 128;

export const RoomName = Type.String({
  pattern: ROOM_NAME_PATTERN,
  description: 'Lowercase letters, digits, `_` and `-`; 1–64 long; starts with a letter or digit.',
  examples: ['general'],
});
export const UserName = Type.String({
  pattern: USER_NAME_PATTERN,
  description: 'Lowercase letters, digits, `_` and `-`; 1–32 long; starts with a letter or digit.',
  examples: ['ada'],
});
const Seq = Type.Integer({ minimum: 0, description: 'Per-room sequence number; 0 = before the first.' });
const Ref = Type.Union([Type.String({ minLength: 1, maxLength: MAX_REF_LENGTH }), Type.Integer()], {
  description: 'Client-chosen; echoed in the answer. On `pub`, also the idempotency key.',
});
const Timestamp = Type.String({ format: 'date-time' });

// ---- client → server --------------------------------------------------------------------

export const AuthFrame = Type.Object(
  {
    type: Type.Literal('auth'),
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    ref: Type.Optional(Ref),
  },
  { ...closed, description: 'Authenticate the connection (first frame, unless the upgrade had a token).' },
);
export const SubFrame = Type.Object(
  { type: Type.Literal('sub'), room: RoomName, since: Type.Optional(Seq), ref: Type.Optional(Ref) },
  {
    ...closed,
    description:
      'Subscribe to a room. With `since`, every stored message after it is replayed first, then live events follow with no gap and no duplicate.',
  },
);
export const UnsubFrame = Type.Object(
  { type: Type.Literal('unsub'), room: RoomName, ref: Type.Optional(Ref) },
  { ...closed, description: 'Stop receiving a room’s events.' },
);
export const PubFrame = Type.Object(
  {
    type: Type.Literal('pub'),
    room: RoomName,
    // No minLength: empty text is blank text, refused by the core rule as text_invalid either way.
    text: Type.String({ description: 'Not blank, well-formed Unicode, at most maxTextLength code points.' }),
    ref: Type.Optional(Ref),
  },
  {
    ...closed,
    description:
      'Post a message (members only). Answered by `ack` once durable; a repeated `ref` in the same room is acknowledged with the first seq, never stored twice.',
  },
);
export const TypingFrame = Type.Object(
  { type: Type.Literal('typing'), room: RoomName, ref: Type.Optional(Ref) },
  {
    ...closed,
    description:
      'Tell the room you are typing (members only; ephemeral, rate-limited). No answer when it is sent on; a refusal (`rate_limited`, `not_a_member`, …) carries its `ref`.',
  },
);
export const PingFrame = Type.Object(
  { type: Type.Literal('ping'), ref: Type.Optional(Ref) },
  { ...closed, description: 'Answered by `pong` with the same `ref`: an application-level round trip.' },
);

export const CLIENT_FRAMES = {
  auth: AuthFrame,
  sub: SubFrame,
  unsub: UnsubFrame,
  pub: PubFrame,
  typing: TypingFrame,
  ping: PingFrame,
} as const;

export type ClientFrameType = keyof typeof CLIENT_FRAMES;
export type ClientFrame = { [K in ClientFrameType]: Static<(typeof CLIENT_FRAMES)[K]> }[ClientFrameType];
export type FrameRef = Static<typeof Ref>;

// ---- server → client --------------------------------------------------------------------

const messageFields = {
  room: RoomName,
  seq: Type.Integer({ minimum: 1 }),
  id: Type.String(),
  author: UserName,
  text: Type.Optional(Type.String()),
  via: Type.Union(VIAS.map((v) => Type.Literal(v))),
  createdAt: Timestamp,
  editedAt: Type.Optional(Timestamp),
};

export const SERVER_FRAMES = {
  ready: Type.Object(
    { type: Type.Literal('ready'), user: UserName, admin: Type.Boolean(), ref: Type.Optional(Ref) },
    { description: 'Authenticated: frames other than `auth` and `ping` are accepted from now on.' },
  ),
  subbed: Type.Object(
    { type: Type.Literal('subbed'), room: RoomName, seq: Seq, ref: Type.Optional(Ref) },
    {
      description:
        'Subscribed. `seq` is the room’s last seq when the subscription started; replayed messages (if `since` was given) follow, then live events.',
    },
  ),
  unsubbed: Type.Object(
    { type: Type.Literal('unsubbed'), room: RoomName, ref: Type.Optional(Ref) },
    { description: 'No more events of this room will come.' },
  ),
  msg: Type.Object(
    {
      type: Type.Literal('msg'),
      ...messageFields,
      truncated: Type.Optional(Type.Literal(true)),
    },
    {
      description:
        'A stored message, in seq order: replayed or live. Over UDP a message too large for one datagram comes with `truncated: true` and no `text`: fetch it over REST.',
    },
  ),
  edit: Type.Object(
    { type: Type.Literal('edit'), ...messageFields },
    { description: 'A message’s text changed; the frame carries the whole message.' },
  ),
  del: Type.Object(
    {
      type: Type.Literal('del'),
      room: RoomName,
      seq: Type.Integer({ minimum: 1 }),
      by: Type.Optional(UserName),
    },
    {
      description:
        'A message was deleted (also sent in a replay for tombstones, so no seq is missing). Live, `by` names who deleted it; a replayed tombstone has no `by`.',
    },
  ),
  presence: Type.Object(
    { type: Type.Literal('presence'), room: RoomName, online: Type.Array(UserName) },
    {
      description:
        'Who is subscribed to the room right now, on any of their connections. Sent on `sub` and when it changes (at most once per `presenceInterval`).',
    },
  ),
  typing: Type.Object(
    { type: Type.Literal('typing'), room: RoomName, user: UserName },
    { description: 'Someone in the room is typing. Never stored.' },
  ),
  member_joined: Type.Object(
    { type: Type.Literal('member_joined'), room: RoomName, user: UserName, role: Type.String() },
    {
      description:
        'A user joined or was invited. Also sent to the added user’s own connections that do not follow the room, so a client learns of an invite at once.',
    },
  ),
  member_left: Type.Object(
    { type: Type.Literal('member_left'), room: RoomName, user: UserName, by: Type.Optional(UserName) },
    {
      description:
        'A user left or was removed. `by` names who removed them (the user themselves when they left); it is absent when their account was deleted. A removed user’s subscriptions to a private room end with `unsubbed`.',
    },
  ),
  room_updated: Type.Object(
    {
      type: Type.Literal('room_updated'),
      room: RoomName,
      title: Type.String(),
      topic: Type.String(),
      private: Type.Boolean(),
      owner: UserName,
      updatedAt: Timestamp,
    },
    {
      description:
        'The room’s title, topic or visibility changed. `updatedAt` orders it against a room read over REST.',
    },
  ),
  room_deleted: Type.Object(
    { type: Type.Literal('room_deleted'), room: RoomName },
    { description: 'The room is gone; its subscriptions end.' },
  ),
  challenge: Type.Object(
    { type: Type.Literal('challenge'), cookie: Type.String(), ref: Type.Optional(Ref) },
    {
      description:
        'UDP only: the answer to a `sub` from an address not yet verified. Send the same `sub` again with this `cookie` (valid for about a minute) and the subscription starts. Never larger than the request.',
    },
  ),
  ack: Type.Object(
    { type: Type.Literal('ack'), room: RoomName, seq: Type.Integer({ minimum: 1 }), ref: Type.Optional(Ref) },
    { description: 'The `pub` with this `ref` is durably stored as `seq`.' },
  ),
  pong: Type.Object(
    { type: Type.Literal('pong'), ref: Type.Optional(Ref) },
    { description: 'Answer to `ping`.' },
  ),
  error: Type.Object(
    {
      type: Type.Literal('error'),
      code: Type.String({ description: 'A stable code from the error table.' }),
      message: Type.String(),
      ref: Type.Optional(Ref),
      room: Type.Optional(RoomName),
    },
    {
      description: 'The frame with this `ref` failed; the connection stays usable unless it is then closed.',
    },
  ),
} as const satisfies Record<string, TSchema>;

export type ServerFrameType = keyof typeof SERVER_FRAMES;
export type ServerFrame = { [K in ServerFrameType]: Static<(typeof SERVER_FRAMES)[K]> }[ServerFrameType];
