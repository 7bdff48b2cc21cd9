// The merge hold: another node's events of a room wait, briefly, for this node's own write to
// that room, so both are fanned out together; never lost, never reordered, never held when the
// hub is waiting for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoomEvent } from '../../src/bus/bus.js';
import { MergeHold } from '../../src/bus/merge-hold.js';

const msg = (seq: number, room = 'r'): RoomEvent => ({
  type: 'msg',
  room,
  message: { room, seq, id: `m${seq}`, author: 'ada', text: `t${seq}`, via: 'ws', createdAt: '' },
});
const seqs = (events: readonly RoomEvent[]) => events.map((e) => (e.type === 'msg' ? e.message.seq : e.type));

function hold(wait = 1000) {
  const out: (number | string)[][] = [];
  const h = new MergeHold(wait, (events) => out.push(seqs(events)));
  return { h, out };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));
const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

test("another node's events pass at once while this node writes nothing to the room", () => {
  const { h, out } = hold();
  const done = h.writing('other room');
  h.offer('r', [msg(1), msg(2)]);
  assert.deepEqual(out, [[1, 2]]);
  done();
  h.close();
});

test('they wait for a write in flight, and go right after it is published, before the turn ends', async () => {
  const { h, out } = hold();
  const done = h.writing('r');
  h.offer('r', [msg(1), msg(2)]);
  h.offer('r', [msg(3)]);
  assert.deepEqual(out, [], 'held');
  assert.equal(h.held, 3);
  h.published(msg(4));
  done();
  assert.deepEqual(out, [], 'not inside the callback that published: the rest of its commit comes first');
  await nextTick();
  assert.deepEqual(out, [[1, 2, 3]], 'in the order they came, before any setImmediate (the write)');
  assert.equal(h.held, 0);
  h.close();
});

test('one write of several ends the hold; the others do not hold what comes next', async () => {
  const { h, out } = hold();
  const a = h.writing('r');
  const b = h.writing('r');
  h.offer('r', [msg(1)]);
  a();
  a();
  await nextTick();
  assert.deepEqual(out, [[1]]);
  h.offer('r', [msg(2)]);
  assert.deepEqual(out, [[1]], 'b is still in flight');
  b();
  await immediate();
  assert.deepEqual(out, [[1], [2]]);
  h.offer('r', [msg(5)]);
  assert.deepEqual(out, [[1], [2], [5]], 'nothing in flight: at once');
});

test('events older than this node’s own last message are never held: the hub is waiting for them', () => {
  const { h, out } = hold();
  const done = h.writing('r');
  h.published(msg(10));
  h.offer('r', [msg(7), msg(8), msg(9)]);
  assert.deepEqual(out, [[7, 8, 9]]);
  h.offer('r', [msg(11)]);
  assert.deepEqual(out, [[7, 8, 9]], 'ahead of it: held');
  h.offer('r', [{ type: 'typing', room: 'r', user: 'bob' }]);
  h.offer('r', [msg(9)]);
  assert.deepEqual(
    out,
    [
      [7, 8, 9],
      [11, 'typing', 9],
    ],
    'an awaited one ends the hold, order kept',
  );
  done();
  h.close();
});

test('this node’s last message is remembered past its write: the next write does not hold what the hub awaits', () => {
  const { h, out } = hold();
  const first = h.writing('r');
  h.published(msg(12));
  first();
  const second = h.writing('r');
  h.offer('r', [msg(11)]);
  assert.deepEqual(out, [[11]], '11 completes what the hub holds (12): at once');
  h.published({ type: 'room_deleted', room: 'r' });
  h.offer('r', [msg(2)]);
  assert.deepEqual(out, [[11]], 'a room deleted (and made again) starts over: 2 waits for the write');
  second();
  h.close();
});

test('the wait is bounded: a write that takes long does not keep them', async () => {
  const { h, out } = hold(20);
  const done = h.writing('r');
  h.offer('r', [msg(1)]);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(out, [[1]]);
  done();
  await immediate();
  assert.deepEqual(out, [[1]], 'delivered once');
});

test('wait 0 never holds; flush hands on everything; close drops what is held', async () => {
  const now = hold(0);
  now.h.writing('r');
  now.h.offer('r', [msg(1)]);
  assert.deepEqual(now.out, [[1]]);

  const { h, out } = hold(3);
  h.writing('r');
  h.writing('s');
  h.offer('r', [msg(1)]);
  h.offer('s', [msg(1, 's')]);
  h.flush();
  assert.deepEqual(out, [[1], [1]]);
  h.offer('r', [msg(2)]);
  h.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(out, [[1], [1]], 'a closed bus delivers nothing more, not even when its wait would end');
});
