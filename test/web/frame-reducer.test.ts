// What each server frame does to the web client's state, and what it asks the Session to do
// (mark read, re-read over REST, show a notice), checked without a browser.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Frame } from '../../src/client/realtime.js';
import type { Message, RoomSummary } from '../../src/core/types.js';
import type { ClientState } from '../../web/src/frame-reducer.js';
import * as typing from '../../src/client/typing.js';
import { loadWebModule } from './bundle.js';

let reducer: typeof import('../../web/src/frame-reducer.js');
before(async () => {
  reducer = await loadWebModule('frame-reducer.ts');
});

const room = (name: string, fields: Partial<RoomSummary> = {}): RoomSummary => ({
  name,
  title: name,
  topic: '',
  private: false,
  owner: 'ada',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  lastSeq: 0,
  role: 'member',
  ...fields,
});

const message = (roomName: string, seq: number, author = 'bob'): Message => ({
  room: roomName,
  seq,
  id: `id${seq}`,
  author,
  text: `m${seq}`,
  via: 'ws',
  createdAt: '2026-01-01T00:00:00.000Z',
});

/** Ada, signed in, with lobby open and dev listed. */
function state(fields: Partial<ClientState> = {}): ClientState {
  return {
    me: { name: 'ada', admin: true },
    rooms: [room('lobby'), room('dev')],
    current: 'lobby',
    timelines: new Map(),
    presence: new Map(),
    followed: new Set(['lobby', 'dev']),
    typing: new typing.TypingTracker('ada'),
    ...fields,
  };
}

const apply = (s: ClientState, frame: Frame, now = 0) => reducer.reduceFrame(s, frame, now);

test('a message joins its timeline, raises the room’s last seq and ends its author’s typing notice', () => {
  const s = state();
  apply(s, { type: 'typing', room: 'dev', user: 'bob' });
  const effects = apply(s, { type: 'msg', ...message('dev', 7) });
  assert.deepEqual(effects, [], 'dev is not open: nothing to mark read');
  assert.deepEqual(
    s.timelines
      .get('dev')!
      .messages()
      .map((m) => m.seq),
    [7],
  );
  assert.equal(s.rooms.find((r) => r.name === 'dev')!.lastSeq, 7);
  assert.deepEqual(s.typing.who('dev'), []);
});

test('a message in the open room asks for it to be marked read', () => {
  const s = state();
  assert.deepEqual(apply(s, { type: 'msg', ...message('lobby', 1) }), [{ kind: 'arrived', room: 'lobby' }]);
});

test('an older message leaves the last seq as it is, and the room list unchanged', () => {
  const s = state({ rooms: [room('lobby', { lastSeq: 9 })] });
  const before = s.rooms;
  apply(s, { type: 'msg', ...message('lobby', 3) });
  assert.equal(s.rooms, before);
});

test('typing shows for TYPING_SHOWN_MS, and not for our own name', () => {
  const s = state();
  apply(s, { type: 'typing', room: 'lobby', user: 'bob' }, 1000);
  apply(s, { type: 'typing', room: 'lobby', user: 'ada' }, 1000);
  assert.deepEqual(s.typing.who('lobby'), ['bob']);
  s.typing.expire(1000 + typing.TYPING_SHOWN_MS);
  assert.deepEqual(s.typing.who('lobby'), []);
});

test('a ready without the admin right takes it away', () => {
  const s = state();
  apply(s, { type: 'ready', user: 'ada', admin: false });
  assert.deepEqual(s.me, { name: 'ada', admin: false });
});

test('a room_updated newer than the room shown changes it; an older one does not', () => {
  const s = state({ rooms: [room('lobby', { updatedAt: '2026-01-02T00:00:00.000Z' })] });
  const update = (topic: string, updatedAt: string): Frame => ({
    type: 'room_updated',
    room: 'lobby',
    title: 'Lobby',
    topic,
    private: false,
    owner: 'ada',
    updatedAt,
  });
  apply(s, update('old', '2026-01-01T12:00:00.000Z'));
  assert.equal(s.rooms[0]!.topic, '');
  apply(s, update('new', '2026-01-03T00:00:00.000Z'));
  assert.equal(s.rooms[0]!.topic, 'new');
});

test('joins and leaves: our own re-reads the room list, any in the open room re-reads its members', () => {
  assert.deepEqual(apply(state(), { type: 'member_joined', room: 'dev', user: 'ada', role: 'member' }), [
    { kind: 'refreshRooms' },
  ]);
  assert.deepEqual(apply(state(), { type: 'member_left', room: 'lobby', user: 'ada' }), [
    { kind: 'refreshRooms' },
    { kind: 'loadMembers' },
  ]);
  assert.deepEqual(apply(state(), { type: 'member_joined', room: 'dev', user: 'bob', role: 'member' }), []);
});

test('each subbed asks for the room to be read again', () => {
  assert.deepEqual(apply(state(), { type: 'subbed', room: 'dev', seq: 4 }), [
    { kind: 'resync', room: 'dev' },
  ]);
});

test('losing a private room closes it and re-reads the list; unsubbed from a public one keeps it open', () => {
  const s = state({ rooms: [room('lobby', { private: true })] });
  assert.deepEqual(apply(s, { type: 'unsubbed', room: 'lobby' }), [{ kind: 'refreshRooms' }]);
  assert.equal(s.current, undefined);
  assert.ok(!s.followed.has('lobby'));

  const open = state();
  assert.deepEqual(apply(open, { type: 'unsubbed', room: 'lobby' }), []);
  assert.equal(open.current, 'lobby');
  assert.ok(!open.followed.has('lobby'));
});

test('a deleted room closes and the list is read again', () => {
  const s = state();
  assert.deepEqual(apply(s, { type: 'room_deleted', room: 'lobby' }), [{ kind: 'refreshRooms' }]);
  assert.equal(s.current, undefined);
});

test('an error answering a pub is left to its message; any other becomes a notice', () => {
  assert.deepEqual(
    apply(state(), { type: 'error', code: 'rate_limited', message: 'slow down', ref: 'r1' }),
    [],
  );
  assert.deepEqual(apply(state(), { type: 'error', code: 'rate_limited', message: 'slow down' }), [
    { kind: 'notify', text: 'Too fast: wait a moment and try again.' },
  ]);
});

test('frames the page does not show change nothing and ask for no redraw', () => {
  const s = state();
  for (const frame of [
    { type: 'pong' },
    { type: 'ack', room: 'lobby', seq: 1, ref: 'r' },
    { type: 'challenge', cookie: 'c' },
  ] satisfies Frame[])
    assert.equal(apply(s, frame), undefined);
  assert.deepEqual(s, state());
});
