// The Redis bus between nodes: every event reaches every other node once, in the order one node
// published them; a node hears its own at once even with Redis away; and whatever may have been
// missed while a connection was down is announced as a resync, so hubs re-read the store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { RoomEvent } from '../../src/bus/bus.js';
import { RedisBus } from '../../src/bus/bus-redis.js';
import { REDIS_URL, redisMissing } from '../support/services.js';

const skip = await redisMissing();

async function nodes(n: number, channel = `porthouse:test:${randomUUID()}`): Promise<RedisBus[]> {
  const buses = Array.from({ length: n }, () => new RedisBus({ url: REDIS_URL, channel, reconnectMin: 20 }));
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
async function kill(bus: RedisBus, which: 'pub' | 'sub'): Promise<void> {
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
  test('every event reaches every other node once, in the order one node published them', async () => {
    const [a, b, c] = await nodes(3);
    try {
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

  test('a node whose subscriber connection drops reports unhealthy, reconnects, then announces a resync', async () => {
    const [a, b] = await nodes(2);
    try {
      const resyncs: (readonly string[] | undefined)[] = [];
      b!.onResync((rooms) => resyncs.push(rooms));
      await kill(b!, 'sub');
      await until(() => resyncs.length === 1, 'a resync on b');
      assert.equal(resyncs[0], undefined, 'every room');
      await until(() => b!.healthy, 'b healthy again');
      const heard: RoomEvent[] = [];
      b!.subscribe((e) => heard.push(e));
      await a!.publish(del('r', 1));
      await until(() => heard.length === 1, 'events flowing again');
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
});
