// Presence through the bus: each node shares who is online on it, every node can ask who is
// online anywhere, every change reaches every node following the room as a `presence` event, and a node that dies
// without a word drops out when its lease runs out. The contract runs against both buses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Bus } from '../../src/bus/bus.js';
import { MemoryBus } from '../../src/bus/bus-memory.js';
import { RedisBus } from '../../src/bus/bus-redis.js';
import { REDIS_URL, redisMissing } from '../support/services.js';

const skipRedis = await redisMissing();

async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Follow `room` on `bus` and collect the presence notices it hears there. */
async function presenceHeard(bus: Bus, room: string): Promise<string[]> {
  await bus.follow(room);
  const heard: string[] = [];
  bus.subscribe((e) => e.type === 'presence' && e.room === room && heard.push(e.room));
  return heard;
}

async function redisNodes(n: number, lease = 15_000, channel = `porthouse:test:${randomUUID()}`) {
  const buses = Array.from(
    { length: n },
    () => new RedisBus({ url: REDIS_URL, channel, reconnectMin: 20, presenceLease: lease }),
  );
  await Promise.all(buses.map((b) => b.connect()));
  return buses;
}

const implementations: { name: string; skip: string | undefined; make: () => Promise<Bus> }[] = [
  { name: 'memory bus', skip: undefined, make: async () => new MemoryBus() },
  { name: 'Redis bus', skip: skipRedis, make: async () => (await redisNodes(1))[0]! },
];

for (const impl of implementations) {
  describe(`presence contract: ${impl.name}`, { skip: impl.skip }, () => {
    test('online lists the shared users sorted, each once, and an empty share withdraws them', async () => {
      const bus = await impl.make();
      try {
        bus.share('r', ['carol', 'ada', 'bob', 'ada']);
        assert.deepEqual(await bus.online('r'), ['ada', 'bob', 'carol']);
        bus.share('r', ['bob']);
        assert.deepEqual(await bus.online('r'), ['bob']);
        bus.share('r', []);
        assert.deepEqual(await bus.online('r'), []);
        assert.deepEqual(await bus.online('elsewhere'), []);
      } finally {
        await bus.close();
      }
    });

    test('a change is heard at once as a presence event of that room', async () => {
      const bus = await impl.make();
      try {
        const heard: string[] = [];
        bus.subscribe((e) => e.type === 'presence' && heard.push(e.room));
        bus.share('r', ['ada']);
        assert.deepEqual(heard, ['r'], 'synchronously, on the node that changed');
      } finally {
        await bus.close();
      }
    });
  });
}

describe('presence across nodes on Redis', { skip: skipRedis }, () => {
  test('online is the union of every node, and a change on one node reaches the others', async () => {
    const [a, b] = await redisNodes(2);
    try {
      await b!.follow('r');
      const heardOnB: string[] = [];
      b!.subscribe((e) => e.type === 'presence' && heardOnB.push(e.room));
      a!.share('r', ['ada', 'bob']);
      b!.share('r', ['bob', 'carol']);
      await until(() => heardOnB.filter((r) => r === 'r').length >= 2, "b hears its own change and a's");
      assert.deepEqual(await a!.online('r'), ['ada', 'bob', 'carol']);
      assert.deepEqual(await b!.online('r'), ['ada', 'bob', 'carol']);
      const before = heardOnB.length;
      a!.share('r', ['bob']);
      await until(() => heardOnB.length > before, 'b hears that ada left a');
      assert.deepEqual(await b!.online('r'), ['bob', 'carol']);
      a!.share('r', []);
      await until(async () => (await b!.online('r')).join() === 'bob,carol', 'bob still online on b');
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test('a node that closes takes its users out of presence at once, not after its lease', async () => {
    const [a, b] = await redisNodes(2, 60_000);
    try {
      const heard = await presenceHeard(b!, 'r');
      a!.share('r', ['ada']);
      await until(async () => (await b!.online('r')).includes('ada'), 'ada online on b');
      await a!.close();
      await until(() => heard.length >= 2, 'b hears a leave');
      assert.deepEqual(await b!.online('r'), []);
    } finally {
      await b!.close();
    }
  });

  test('a leave right after a join, both in flight at once, is told to the other nodes too', async () => {
    const [a, b] = await redisNodes(2, 60_000);
    try {
      const heard = await presenceHeard(b!, 'r');
      // No wait between them: the second write is sent before the first one's answer is read.
      a!.share('r', ['ada']);
      a!.share('r', []);
      await until(() => heard.length >= 2, 'b hears the join and the leave');
      assert.deepEqual(await b!.online('r'), []);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test('a node killed without a word drops out within its lease, and the others are told', async () => {
    const channel = `porthouse:test:${randomUUID()}`;
    const lease = 600;
    const [b] = await redisNodes(1, lease, channel);
    // The other node is a real process, so it can die with SIGKILL mid-lease.
    const module = fileURLToPath(new URL('../../src/bus/bus-redis.js', import.meta.url));
    const script = `
      const { RedisBus } = await import(${JSON.stringify(module)});
      const bus = new RedisBus({ url: ${JSON.stringify(REDIS_URL)}, channel: ${JSON.stringify(channel)}, presenceLease: ${lease} });
      await bus.connect();
      bus.share('r', ['zed']);
      setInterval(() => {}, 1000);
      process.stdout.write('shared\\n');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d) => String(d).includes('shared') && resolve());
        child.once('exit', (code) => reject(new Error(`the other node exited early (${code})`)));
      });
      await b!.follow('r');
      const heard: number[] = [];
      b!.subscribe((e) => e.type === 'presence' && heard.push(Date.now()));
      b!.share('r', ['bob']);
      await until(async () => (await b!.online('r')).join() === 'bob,zed', 'zed online');
      // Longer than the lease: the live node keeps renewing zed's share as it should.
      await new Promise((r) => setTimeout(r, lease * 2));
      assert.deepEqual(await b!.online('r'), ['bob', 'zed'], 'a live node is renewed, not dropped');
      child.kill('SIGKILL');
      const killedAt = Date.now();
      const told = heard.length;
      await until(() => heard.length > told, 'b told that zed is gone', lease * 4);
      const after = Date.now() - killedAt;
      // The promise is a lease and a quarter; a second more is slack for a busy machine.
      assert.ok(after <= lease * 1.25 + 1000, `told within a lease and a quarter (${after} ms)`);
      assert.deepEqual(await b!.online('r'), ['bob']);
    } finally {
      child.kill('SIGKILL');
      await b!.close();
    }
  });
});
