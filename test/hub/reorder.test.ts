// The reorder stage: a room's messages leave in seq order though they arrive out of it, a held
// message waits a bounded time, and other events never overtake the messages before them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
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
  const holds: { ms: number; timedOut: boolean }[] = [];
  const r = new Reorder(
    wait,
    (e) => out.push(name(e)),
    (ms, timedOut) => holds.push({ ms, timedOut }),
  );
  return { r, out, holds };
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
  const { r, out, holds } = stage(30);
  r.push(msg(1));
  r.push(msg(4));
  r.push(msg(3));
  assert.deepEqual(out, [1]);
  await new Promise((res) => setTimeout(res, 80));
  // Given up once the event loop has polled its sockets after the wait.
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(out, [1, 3, 4], 'subscriptions will read 2 from the store');
  assert.equal(holds.length, 1);
  assert.equal(holds[0]!.timedOut, true);
  assert.ok(holds[0]!.ms >= 27, `held ${holds[0]!.ms} ms`);
  r.push(msg(5));
  assert.deepEqual(out, [1, 3, 4, 5], 'and the order carries on from there');
  r.push(msg(2));
  assert.deepEqual(out, [1, 3, 4, 5, 2], 'a late one passes (subscriptions drop what they have)');
});

test('a missing message that came while the wait ran out is not taken for lost', async (t) => {
  // A socket pair on loopback: what one end writes is in the other's kernel buffer at once, and
  // read in the event loop's next poll, which comes after its timers.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = once(server, 'connection');
  const reader = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [[writer]] = (await Promise.all([accepted, once(reader, 'connect')])) as [[Socket], unknown];
  t.after(() => {
    reader.destroy();
    writer.destroy();
    server.close();
  });
  const { r, out, holds } = stage(20);
  reader.on('data', () => r.push(msg(2)));
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      r.push(msg(1));
      r.push(msg(3));
      writer.write('2');
      // A busy node: the wait runs out while message 2 waits in the kernel, unread.
      const until = performance.now() + 40;
      while (performance.now() < until);
      resolve();
    }),
  );
  await new Promise((res) => setTimeout(res, 60));
  assert.deepEqual(out, [1, 2, 3], 'in order, no gap left for the store');
  assert.equal(holds.length, 1);
  assert.equal(holds[0]!.timedOut, false, 'filled, not timed out');
});

test('a hold filled in time is reported with how long it lasted', async () => {
  const { r, holds } = stage(1000);
  r.push(msg(1));
  r.push(msg(3));
  await new Promise((res) => setTimeout(res, 15));
  r.push(msg(2));
  assert.equal(holds.length, 1);
  assert.equal(holds[0]!.timedOut, false);
  assert.ok(holds[0]!.ms >= 12 && holds[0]!.ms < 1000, `held ${holds[0]!.ms} ms`);
  r.close();
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
