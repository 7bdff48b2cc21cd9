// Room channels between nodes: a node hears through Redis only the rooms its clients follow.
// Two nodes, ten rooms, each node's subscribers in half of them, posts through both nodes into
// every room: every subscriber gets its room's messages in order, and each node's bus counter
// shows it received the other node's messages of its own rooms and nothing of the others'
// (a turn's events of one room travel as one Redis message, so events are what is counted).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { type TestServer, startServer, userApi } from '../support/server.js';
import { REDIS_URL, postgresMissing, redisMissing, throwawayDatabase } from '../support/services.js';
import { connectWs } from '../support/ws.js';

const skip = (await postgresMissing()) ?? (await redisMissing());
const ROOMS = 10;
const PER_ROOM_PER_NODE = 6;

/** A node's count of the events of room channels it received from other nodes. */
async function roomEventsReceived(node: TestServer): Promise<number> {
  const text = String((await node.api.get('/metrics')).body);
  const m = /^porthouse_bus_events_received_total\{channel="room"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('room channels on Redis', { skip }, () => {
  const database = throwawayDatabase('channels');

  test("a node receives the other node's messages of the rooms it serves, and none of the rooms it does not", async (t) => {
    const redisChannel = `porthouse:test:${randomUUID()}`;
    const nodes = [
      await startServer(t, { postgres: database(), redis: REDIS_URL, redisChannel }),
      await startServer(t, { postgres: database(), redis: REDIS_URL, redisChannel }),
    ] as const;
    const ada = await userApi(nodes[0], 'ada');
    const rooms = Array.from({ length: ROOMS }, (_, i) => `room-${i}`);
    for (const name of rooms) assert.equal((await ada.post('/v1/rooms', { name })).status, 201);
    // Node 0 serves the first half of the rooms, node 1 the second.
    const servedBy = (room: number) => (room < ROOMS / 2 ? 0 : 1);
    const got = new Map<string, number[]>();
    for (const [i, room] of rooms.entries()) {
      const c = await connectWs(nodes[servedBy(i)].url, { token: ada.token! });
      t.after(() => c.close());
      const seqs: number[] = [];
      got.set(room, seqs);
      c.ws.on('message', (data) => {
        const f = JSON.parse(String(data));
        if (f.type === 'msg') seqs.push(f.seq);
      });
      c.send({ type: 'sub', room });
      await c.next((f) => f.type === 'subbed');
    }
    const before = await Promise.all(nodes.map((n) => roomEventsReceived(n)));
    const viaNode = nodes.map((n) => n.api.as(ada.token!));
    const posts = rooms.flatMap((room) =>
      Array.from({ length: 2 * PER_ROOM_PER_NODE }, (_, j) =>
        viaNode[j % 2]!.post(`/v1/rooms/${room}/messages`, { text: `${room} ${j}` }),
      ),
    );
    assert.ok((await Promise.all(posts)).every((r) => r.status === 201));
    const all = Array.from({ length: 2 * PER_ROOM_PER_NODE }, (_, i) => i + 1);
    const deadline = Date.now() + 10_000;
    while ([...got.values()].some((s) => s.length < all.length) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    for (const [room, seqs] of got) assert.deepEqual(seqs, all, `${room}: every message once, in order`);
    // Each node heard, from the other, exactly that node's posts into the rooms it serves.
    const expected = (ROOMS / 2) * PER_ROOM_PER_NODE;
    for (const [i, node] of nodes.entries()) {
      let received = 0;
      for (let k = 0; k < 50 && received < before[i]! + expected; k++) {
        received = await roomEventsReceived(node);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(
        (await roomEventsReceived(node)) - before[i]!,
        expected,
        `node ${i} received the other's ${expected} messages of its ${ROOMS / 2} rooms, not all ${2 * expected}`,
      );
    }
    const following = String((await nodes[0].api.get('/metrics')).body).match(
      /^porthouse_bus_rooms_following (\d+)$/m,
    );
    assert.equal(Number(following?.[1]), ROOMS / 2);
  });
});
