// Three nodes on one PostgreSQL database and one Redis: subscribers on WebSocket, TCP and UDP
// spread over the nodes, ten publishers spread over them too, and one node losing Redis
// mid-burst. Every subscriber gets every message once, in seq order, and the history agrees
// (UDP is best effort: what it got is in order and once, and REST fills its gaps).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { RedisBus } from '../../src/bus/bus-redis.js';
import { UdpClient } from '../../src/client/udp.js';
import { type TestServer, startServer, userApi } from '../support/server.js';
import { REDIS_URL, postgresMissing, redisMissing, throwawayDatabase } from '../support/services.js';
import { connectWs } from '../support/ws.js';

const skip = (await postgresMissing()) ?? (await redisMissing());
const PUBLISHERS = 10;
const PER_PUBLISHER = 500;
const TOTAL = PUBLISHERS * PER_PUBLISHER;

async function killRedisConnections(server: TestServer): Promise<void> {
  const node = (server.bus as RedisBus).node;
  const admin = new Redis(REDIS_URL);
  try {
    const list = (await admin.client('LIST')) as string;
    for (const line of list.split('\n').filter((l) => l.includes(node)))
      await admin.client('KILL', 'ID', /\bid=(\d+)/.exec(line)![1]!);
  } finally {
    admin.disconnect();
  }
}

describe('three nodes, PostgreSQL and Redis', { skip }, () => {
  const database = throwawayDatabase('cluster');

  test(`${TOTAL} messages from ${PUBLISHERS} publishers on 3 nodes reach every subscriber on every node once, in order, though one node loses Redis mid-burst`, async (t) => {
    const redisChannel = `porthouse:test:${randomUUID()}`;
    const nodes: TestServer[] = [];
    for (let i = 0; i < 3; i++)
      nodes.push(await startServer(t, { postgres: database(), redis: REDIS_URL, redisChannel }));
    const ada = await userApi(nodes[0]!, 'ada');
    await ada.post('/v1/rooms', { name: 'big' });

    const seen = new Map<string, number[]>();
    const udpSeen = new Map<string, number[]>();
    const closers: (() => void)[] = [];
    t.after(() => {
      for (const c of closers) c();
    });
    for (const [i, node] of nodes.entries()) {
      for (let j = 0; j < 2; j++) {
        const c = await connectWs(node.url, { token: ada.token! });
        closers.push(() => c.close());
        const got: number[] = [];
        seen.set(`ws-node${i}-${j}`, got);
        c.ws.on('message', (data) => {
          const f = JSON.parse(String(data));
          if (f.type === 'msg') got.push(f.seq);
        });
        c.send({ type: 'sub', room: 'big', since: 0 });
        await c.next((f) => f.type === 'subbed');
      }
      const port = node.addresses().find((a) => a.door === 'tcp')!.port;
      const sock = connect(port, '127.0.0.1');
      closers.push(() => sock.destroy());
      const got: number[] = [];
      seen.set(`tcp-node${i}`, got);
      let buffer = '';
      const subbed = new Promise<void>((resolve) => {
        sock.on('data', (chunk) => {
          buffer += chunk;
          for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
            const f = JSON.parse(buffer.slice(0, nl));
            buffer = buffer.slice(nl + 1);
            if (f.type === 'ready') sock.write(`${JSON.stringify({ type: 'sub', room: 'big', since: 0 })}\n`);
            else if (f.type === 'subbed') resolve();
            else if (f.type === 'msg') got.push(f.seq);
          }
        });
      });
      sock.write(`${JSON.stringify({ type: 'auth', token: ada.token })}\n`);
      await subbed;
      const udpGot: number[] = [];
      udpSeen.set(`udp-node${i}`, udpGot);
      const udpPort = node.addresses().find((a) => a.door === 'udp')!.port;
      const udp = new UdpClient({
        url: `udp://127.0.0.1:${udpPort}`,
        token: ada.token!,
        onFrame: (f) => f.type === 'msg' && udpGot.push(f['seq'] as number),
      });
      closers.push(() => udp.close());
      await udp.subscribe('big');
    }

    const publishers = await Promise.all(
      Array.from({ length: PUBLISHERS }, (_, p) => connectWs(nodes[p % 3]!.url, { token: ada.token! })),
    );
    for (const p of publishers) closers.push(() => p.close());
    const acked = new Set<number>();
    const bursts = publishers.map(async (p, pi) => {
      for (let k = 0; k < PER_PUBLISHER; k++) {
        p.send({ type: 'pub', room: 'big', text: `p${pi}-${k}`, ref: `p${pi}-${k}` });
        if (k % 50 === 49) await new Promise((r) => setTimeout(r, 5));
      }
      await p.next((f) => f.type === 'ack' && f.ref === `p${pi}-${PER_PUBLISHER - 1}`, 60_000);
      for (const f of p.frames) if (f.type === 'ack') acked.add(f.seq);
    });
    // Node 1 loses Redis while the burst is on.
    await new Promise((r) => setTimeout(r, 50));
    await killRedisConnections(nodes[1]!);
    await Promise.all(bursts);
    const errors = publishers.flatMap((p) => p.frames.filter((f) => f.type === 'error'));
    assert.deepEqual(errors, [], 'no pub refused');
    assert.equal(acked.size, TOTAL, 'every pub acked with its own seq');

    const all = Array.from({ length: TOTAL }, (_, i) => i + 1);
    const deadline = Date.now() + 30_000;
    while ([...seen.values()].some((s) => s.length < TOTAL) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    for (const [who, seqs] of seen) assert.deepEqual(seqs, all, `${who} got 1..${TOTAL} once, in order`);
    const history = (await ada.get(`/v1/rooms/big/messages?after=${TOTAL - 100}&limit=100`)).body as {
      seq: number;
    }[];
    assert.deepEqual(
      history.map((m) => m.seq),
      all.slice(-100),
    );
    assert.equal(((await ada.get('/v1/rooms')).body as { lastSeq: number }[])[0]!.lastSeq, TOTAL);
    for (const node of nodes)
      assert.equal((await node.api.get('/readyz')).status, 200, 'every node ready again');

    // The tail: messages published while node 1 is away, and nothing after them. Only the resync
    // on reconnect (re-read from the store by seq) can bring them to node 1's subscribers.
    await killRedisConnections(nodes[1]!);
    for (let k = 1; k <= 20; k++) await ada.post('/v1/rooms/big/messages', { text: `tail-${k}` });
    const withTail = Array.from({ length: TOTAL + 20 }, (_, i) => i + 1);
    const tailDeadline = Date.now() + 15_000;
    while ([...seen.values()].some((s) => s.length < TOTAL + 20) && Date.now() < tailDeadline)
      await new Promise((r) => setTimeout(r, 50));
    for (const [who, seqs] of seen)
      assert.deepEqual(seqs, withTail, `${who} got the tail too, once, in order`);

    // UDP: best effort by design. What arrived is in seq order with no duplicate; the gaps a
    // listener sees by seq are exactly what REST gives back, so together they are the history.
    const udpDeadline = Date.now() + 5000;
    while ([...udpSeen.values()].some((s) => s.at(-1) !== TOTAL + 20) && Date.now() < udpDeadline)
      await new Promise((r) => setTimeout(r, 50));
    for (const [who, seqs] of udpSeen) {
      assert.ok(seqs.length > 0, `${who} got messages`);
      for (let k = 1; k < seqs.length; k++)
        assert.ok(seqs[k]! > seqs[k - 1]!, `${who}: in order, no duplicate`);
      const have = new Set(seqs);
      const missing = withTail.filter((q) => !have.has(q));
      const filled = new Set(seqs);
      for (const q of missing) {
        const m = await ada.get(`/v1/rooms/big/messages/${q}`);
        assert.equal(m.status, 200, `${who}: seq ${q} is in the history`);
        filled.add((m.body as { seq: number }).seq);
      }
      assert.deepEqual(
        [...filled].sort((x, y) => x - y),
        withTail,
        `${who} + REST = the history`,
      );
      t.diagnostic(`${who}: ${seqs.length} of ${withTail.length} by UDP, ${missing.length} filled over REST`);
    }
  });

  test('a UDP address check passed on one node is good on every node (one cookie secret)', async (t) => {
    const nodes = [
      await startServer(t, { postgres: database() }),
      await startServer(t, { postgres: database() }),
    ];
    const ada = await userApi(nodes[0]!, 'ada-udp');
    await ada.post('/v1/rooms', { name: 'udp-check' });
    const socket = createSocket('udp4');
    t.after(() => socket.close());
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const ask = (node: TestServer, frame: object) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no answer')), 3000);
        socket.once('message', (msg) => {
          clearTimeout(timer);
          resolve(JSON.parse(String(msg)));
        });
        const port = node.addresses().find((a) => a.door === 'udp')!.port;
        socket.send(JSON.stringify({ ...frame, token: ada.token }), port, '127.0.0.1');
      });
    const challenge = await ask(nodes[0]!, { type: 'sub', room: 'udp-check', ref: 'a' });
    assert.equal(challenge['type'], 'challenge');
    const subbed = await ask(nodes[1]!, {
      type: 'sub',
      room: 'udp-check',
      ref: 'b',
      cookie: challenge['cookie'],
    });
    assert.equal(subbed['type'], 'subbed', 'node 1 accepts the cookie node 0 issued');
  });
});
