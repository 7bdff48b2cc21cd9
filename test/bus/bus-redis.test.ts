// The Redis bus between nodes: every event reaches every other node that follows its room once, in
// the order one node published them, and no node that does not; deployment-wide events reach
// every node; a node hears its own at once even with Redis away; and whatever may have been
// missed while a connection was down is announced as a resync, so hubs re-read the store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { RoomEvent } from '../../src/bus/bus.js';
import { RedisBus, type RedisBusOptions } from '../../src/bus/bus-redis.js';
import { REDIS_URL, redisMissing } from '../support/services.js';

const skip = await redisMissing();

async function nodes(
  n: number,
  channel = `porthouse:test:${randomUUID()}`,
  options: Partial<RedisBusOptions> = {},
): Promise<RedisBus[]> {
  const buses = Array.from(
    { length: n },
    () => new RedisBus({ url: REDIS_URL, channel, reconnectMin: 20, ...options }),
  );
  await Promise.all(buses.map((b) => b.connect()));
  return buses;
}

const typing = (room: string, user: string): RoomEvent => ({ type: 'typing', room, user });
const del = (room: string, seq: number): RoomEvent => ({ type: 'del', room, seq });

async function until(check: () => boolean, what: string, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Drop a node's connections from the Redis side, as a network failure would. */
async function kill(bus: RedisBus, which: 'pub' | 'sub' | 'rooms'): Promise<void> {
  const admin = new Redis(REDIS_URL);
  try {
    const list = (await admin.client('LIST')) as string;
    const line = list.split('\n').find((l) => l.includes(`name=porthouse-${which}-${bus.node}`));
    assert.ok(line, `the ${which} connection is listed`);
    const id = /\bid=(\d+)/.exec(line!)![1]!;
    await admin.client('KILL', 'ID', id);
  } finally {
    admin.disconnect();
  }
}

describe('Redis bus', { skip }, () => {
  test('every event reaches every other node following its room once, in the order one node published them', async () => {
    const [a, b, c] = await nodes(3);
    try {
      await Promise.all([a!.follow('r'), b!.follow('r'), c!.follow('r')]);
      const heard = { b: [] as number[], c: [] as number[], a: [] as number[] };
      a!.subscribe((e) => e.type === 'del' && heard.a.push(e.seq));
      b!.subscribe((e) => e.type === 'del' && heard.b.push(e.seq));
      c!.subscribe((e) => e.type === 'del' && heard.c.push(e.seq));
      for (let i = 1; i <= 1000; i++) void a!.publish(del('r', i));
      await until(() => heard.b.length === 1000 && heard.c.length === 1000, '1000 events on b and c');
      const all = Array.from({ length: 1000 }, (_, i) => i + 1);
      assert.deepEqual(heard.b, all);
      assert.deepEqual(heard.c, all);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(heard.a, all, 'the publisher heard its own once (at once, not again from Redis)');
      assert.ok(a!.healthy && b!.healthy);
    } finally {
      await Promise.all([a, b, c].map((x) => x!.close()));
    }
  });

  test('another deployment on another channel hears nothing', async () => {
    const [a] = await nodes(1);
    const [other] = await nodes(1);
    try {
      const heard: RoomEvent[] = [];
      other!.subscribe((e) => heard.push(e));
      await a!.publish(typing('r', 'ada'));
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(heard, []);
    } finally {
      await Promise.all([a!.close(), other!.close()]);
    }
  });

  for (const [which, what] of [
    ['sub', 'control channel'],
    ['rooms', 'room channels'],
  ] as const)
    test(`a node whose ${what} connection drops reports unhealthy, reconnects, then announces a resync`, async () => {
      const [a, b] = await nodes(2);
      try {
        await b!.follow('r');
        const resyncs: (readonly string[] | undefined)[] = [];
        b!.onResync((rooms) => resyncs.push(rooms));
        await kill(b!, which);
        await until(() => resyncs.length === 1, 'a resync on b');
        assert.equal(resyncs[0], undefined, 'every room');
        await until(() => b!.healthy, 'b healthy again');
        const heard: RoomEvent[] = [];
        b!.subscribe((e) => heard.push(e));
        await a!.publish(del('r', 1));
        await until(() => heard.length === 1, "the room's events flowing again (its channel resubscribed)");
      } finally {
        await Promise.all([a!.close(), b!.close()]);
      }
    });

  test('events a node could not publish are still heard at home, and the others are told to re-read those rooms', async () => {
    const [a, b] = await nodes(2);
    try {
      const resyncs: (readonly string[] | undefined)[] = [];
      b!.onResync((rooms) => resyncs.push(rooms));
      const home: RoomEvent[] = [];
      a!.subscribe((e) => home.push(e));
      await kill(a!, 'pub');
      await until(() => !a!.healthy, 'a unhealthy');
      await a!.publish(del('lost-room', 7));
      await a!.publish(typing('lost-room', 'ada'));
      assert.equal(home.length, 2, 'its own hub heard both at once');
      await until(() => resyncs.length === 1, 'b told to re-read');
      assert.deepEqual(resyncs[0], ['lost-room']);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test("a node hears a room's events only while it follows the room, and for the linger after; deployment-wide events always", async () => {
    const [a, b] = await nodes(2, undefined, { roomLinger: 300 });
    try {
      const heard: string[] = [];
      b!.subscribe((e) => heard.push(`${e.type} ${'room' in e ? e.room : e.user}`));
      await b!.follow('x');
      assert.equal(b!.following, 1);
      await a!.publish(del('x', 1));
      await a!.publish(del('y', 1));
      await a!.publish({ type: 'user_deleted', user: 'eve' });
      await a!.publish({ type: 'member_left', room: 'y', user: 'eve' });
      await until(() => heard.length === 3, 'three events on b');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(heard.sort(), ['del x', 'member_left y', 'user_deleted eve']);
      heard.length = 0;
      b!.unfollow('x');
      await a!.publish(del('x', 2));
      await until(() => heard.length === 1, 'an event of x during the linger');
      await until(() => b!.following === 0, 'the linger over');
      await new Promise((r) => setTimeout(r, 50));
      await a!.publish(del('x', 3));
      await a!.publish({ type: 'user_deleted', user: 'mallory' });
      await until(() => heard.length === 2, 'the control event');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(heard, ['del x', 'user_deleted mallory']);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test('an event published the moment follow() resolves is heard, every time', async () => {
    const [a, b] = await nodes(2);
    try {
      const heard = new Set<string>();
      b!.subscribe((e) => e.type === 'del' && heard.add(e.room));
      for (let i = 0; i < 50; i++) {
        await b!.follow(`room-${i}`);
        await a!.publish(del(`room-${i}`, 1));
      }
      await until(() => heard.size === 50, 'every room heard');
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test('a room that empties and fills again within the linger keeps its channel, and one follower of two leaving changes nothing', async () => {
    const [a, b] = await nodes(2, undefined, { roomLinger: 200 });
    try {
      const heard: number[] = [];
      b!.subscribe((e) => e.type === 'del' && heard.push(e.seq));
      await b!.follow('r');
      await b!.follow('r');
      b!.unfollow('r');
      b!.unfollow('r');
      await b!.follow('r');
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(b!.following, 1, 'still followed: the second follow ended the linger');
      await a!.publish(del('r', 1));
      await until(() => heard.length === 1, 'the event');
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test("a node's own events echoed back by Redis are counted as its own and not delivered again", async () => {
    const received: string[] = [];
    const [a, b] = await nodes(2, undefined, {});
    const [c] = await nodes(1, undefined, {
      onReceive: (channel, origin, events) => received.push(`${channel} ${origin} ${events}`),
    });
    await Promise.all([a!.close(), b!.close()]);
    try {
      const heard: number[] = [];
      c!.subscribe((e) => e.type === 'del' && heard.push(e.seq));
      await c!.follow('r');
      await c!.publish(del('r', 1));
      await c!.publish({ type: 'user_deleted', user: 'eve' });
      await until(() => received.length === 2, 'both echoes');
      assert.deepEqual(received.sort(), ['control own 0', 'room own 0']);
      assert.deepEqual(heard, [1], 'delivered once, when published');
    } finally {
      await c!.close();
    }
  });

  test('the events of one turn travel as one Redis message per channel, in the order published', async () => {
    const channel = `porthouse:test:${randomUUID()}`;
    const received: string[] = [];
    const [a] = await nodes(1, channel);
    const [b] = await nodes(1, channel, {
      onReceive: (kind, origin, events) => received.push(`${kind} ${origin} ${events}`),
    });
    try {
      await b!.follow('r');
      const heard: string[] = [];
      b!.subscribe((e) => heard.push(e.type === 'del' ? `del ${e.seq}` : e.type));
      for (let i = 1; i <= 10; i++) void a!.publish(del('r', i));
      void a!.publish({ type: 'user_deleted', user: 'eve' });
      await a!.publish({ type: 'user_changed', user: 'bob', admin: true });
      await until(() => heard.length === 12, 'every event on b');
      assert.deepEqual(
        heard.filter((h) => h.startsWith('del')),
        Array.from({ length: 10 }, (_, i) => `del ${i + 1}`),
      );
      assert.deepEqual(
        heard.filter((h) => !h.startsWith('del')),
        ['user_deleted', 'user_changed'],
      );
      assert.deepEqual(
        received.sort(),
        ['control other 2', 'room other 10'],
        'two Redis messages for twelve events',
      );
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test("another node's events of a room wait for this node's own write to it, then come with it, in order", async () => {
    const channel = `porthouse:test:${randomUUID()}`;
    let fromB = 0;
    const [a] = await nodes(1, channel, {
      mergeWait: 5000,
      onReceive: (_kind, origin, events) => {
        if (origin === 'other') fromB += events;
      },
    });
    const [b] = await nodes(1, channel);
    try {
      await Promise.all([a!.follow('r'), b!.follow('r')]);
      const heard: number[] = [];
      a!.subscribe((e) => e.type === 'msg' && heard.push(e.message.seq));
      const msg = (seq: number): RoomEvent => ({
        type: 'msg',
        room: 'r',
        message: { room: 'r', seq, id: `m${seq}`, author: 'bob', text: 'hi', via: 'ws', createdAt: '' },
      });
      const done = a!.writing('r');
      for (const seq of [1, 2, 3]) void b!.publish(msg(seq));
      await until(() => fromB === 3, "b's three messages to reach a");
      assert.deepEqual(heard, [], "b's messages wait while a is writing to the room");
      void a!.publish(msg(4));
      done();
      assert.deepEqual(heard, [4], 'its own at once');
      await new Promise((r) => process.nextTick(r));
      assert.deepEqual(heard, [4, 1, 2, 3], "b's right after, in the same turn");
      void b!.publish(msg(5));
      await until(() => heard.length === 5, "b's next message");
      assert.deepEqual(heard, [4, 1, 2, 3, 5], 'nothing in flight: no wait');
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});
