// The reorder stage: a room's messages leave in seq order though they arrive out of it, a held
// message waits a bounded time, and other events never overtake the messages before them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InRoomEvent } from '../../src/bus/bus.js';
import { Reorder } from '../../src/hub/reorder.js';

const msg = (seq: number, room = 'r'): InRoomEvent => ({
  type: 'msg',
  room,
  message: { room, seq, id: `m${seq}`, author: 'ada', text: `t${seq}`, via: 'ws', createdAt: '' } as never,
});
const edit = (seq: number): InRoomEvent => ({ type: 'edit', room: 'r', message: { seq } as never });
const name = (e: InRoomEvent) =>
  e.type === 'msg' ? e.message.seq : `${e.type}${e.type === 'edit' ? e.message.seq : ''}`;

function stage(wait = 1000) {
  const out: (number | string)[] = [];
  const r = new Reorder(wait, (e) => out.push(name(e)));
  return { r, out };
}

test('messages in order pass at once', () => {
  const { r, out } = stage();
  for (const s of [1, 2, 3]) r.push(msg(s));
  assert.deepEqual(out, [1, 2, 3]);
});

test('a message ahead of its turn waits for the one before it, then both go in seq order', () => {
  const { r, out } = stage();
  r.push(msg(1));
  r.push(msg(3));
  r.push(msg(4));
  assert.deepEqual(out, [1], '3 and 4 wait for 2');
  assert.equal(r.held, 2);
  r.push(msg(2));
  assert.deepEqual(out, [1, 2, 3, 4]);
  assert.equal(r.held, 0);
  r.close();
});

test('an edit that arrives behind a held message leaves after it; events behind a second hole keep waiting', () => {
  const { r, out } = stage();
  r.push(msg(1));
  r.push(msg(3));
  r.push(edit(3));
  r.push(msg(5));
  r.push({ type: 'room_updated', room: 'r', value: {} as never });
  r.push(msg(2));
  assert.deepEqual(out, [1, 2, 3, 'edit3'], '5 and what came after it wait for 4');
  r.push(msg(4));
  assert.deepEqual(out, [1, 2, 3, 'edit3', 4, 5, 'room_updated']);
  r.close();
});

test('when the missing message never comes, what was held goes after the wait, in seq order', async () => {
  const { r, out } = stage(30);
  r.push(msg(1));
  r.push(msg(4));
  r.push(msg(3));
  assert.deepEqual(out, [1]);
  await new Promise((res) => setTimeout(res, 80));
  assert.deepEqual(out, [1, 3, 4], 'subscriptions will read 2 from the store');
  r.push(msg(5));
  assert.deepEqual(out, [1, 3, 4, 5], 'and the order carries on from there');
  r.push(msg(2));
  assert.deepEqual(out, [1, 3, 4, 5, 2], 'a late one passes (subscriptions drop what they have)');
});

test('rooms are independent; forget releases what a room held; wait 0 holds nothing', () => {
  const { r, out } = stage();
  r.push(msg(1));
  r.push(msg(3));
  r.push(msg(7, 'other'));
  assert.deepEqual(out, [1, 7]);
  r.forget('r');
  assert.deepEqual(out, [1, 7, 3]);
  const now = stage(0);
  now.r.push(msg(1));
  now.r.push(msg(3));
  now.r.push(msg(2));
  assert.deepEqual(now.out, [1, 3, 2]);
});
