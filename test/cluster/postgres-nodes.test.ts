// Nodes on PostgreSQL: a fresh database per run, two nodes sharing it. A token from one node is
// valid on the other (the signing key lives in the database), and what one node stores the other
// serves, with one seq order. Live fan-out between nodes needs the Redis bus (not here).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type TestServer, startServer, userApi } from '../support/server.js';
import { randomUUID } from 'node:crypto';
import { REDIS_URL, postgresMissing, redisMissing, throwawayDatabase } from '../support/services.js';
import { connectWs } from '../support/ws.js';

const skip = await postgresMissing();
const noRedis = await redisMissing();

describe('nodes sharing one PostgreSQL database', { skip }, () => {
  const database = throwawayDatabase('nodes');

  test('a token from node A works on node B, and both serve the same history in one seq order', async (t) => {
    const a: TestServer = await startServer(t, { postgres: database() });
    const b: TestServer = await startServer(t, { postgres: database() });
    assert.equal(a.store.kind, 'postgres');
    const adaOnA = await userApi(a, 'ada');
    const adaOnB = b.api.as(adaOnA.token);
    assert.equal((await adaOnB.get('/v1/me')).status, 200, "B accepts A's token");
    assert.equal((await adaOnA.post('/v1/rooms', { name: 'shared' })).status, 201);
    const posts = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? adaOnA : adaOnB).post('/v1/rooms/shared/messages', { text: `m${i}` }),
      ),
    );
    assert.ok(posts.every((p) => p.status === 201));
    const seqs = posts.map((p) => (p.body as { seq: number }).seq).sort((x, y) => x - y);
    assert.deepEqual(
      seqs,
      Array.from({ length: 40 }, (_, i) => i + 1),
      'one gapless order across nodes',
    );
    const fromA = (await adaOnA.get('/v1/rooms/shared/messages?limit=100')).body as { seq: number }[];
    const fromB = (await adaOnB.get('/v1/rooms/shared/messages?limit=100')).body as { seq: number }[];
    assert.deepEqual(fromA, fromB);
    assert.equal(fromA.length, 40);
    assert.equal(
      (await adaOnB.post('/v1/rooms', { name: 'shared' })).status,
      409,
      'names are unique across nodes',
    );
    assert.equal((await a.api.get('/readyz')).status, 200);
  });

  test('one Idempotency-Key sent to two nodes at once stores one message; a pub ref retried on another node gets the first seq', async (t) => {
    const a: TestServer = await startServer(t, { postgres: database() });
    const b: TestServer = await startServer(t, { postgres: database() });
    const onA = await userApi(a, 'cy');
    const onB = b.api.as(onA.token);
    await onA.post('/v1/rooms', { name: 'once' });
    const headers = { 'idempotency-key': 'k-1' };
    const [r1, r2] = await Promise.all([
      onA.post('/v1/rooms/once/messages', { text: 'hello' }, headers),
      onB.post('/v1/rooms/once/messages', { text: 'hello' }, headers),
    ]);
    assert.deepEqual([r1.status, r2.status].sort(), [200, 201], 'one stored, one matched');
    assert.equal(r1.body.seq, r2.body.seq);
    const onWsA = await connectWs(a.url, { token: onA.token! });
    const onWsB = await connectWs(b.url, { token: onA.token! });
    t.after(() => {
      onWsA.close();
      onWsB.close();
    });
    onWsA.send({ type: 'pub', room: 'once', text: 'again', ref: 'r-1' });
    const first = await onWsA.next((f) => f.type === 'ack');
    // The client lost node A before it saw the ack and retries on node B with the same ref.
    onWsB.send({ type: 'pub', room: 'once', text: 'again', ref: 'r-1' });
    const retry = await onWsB.next((f) => f.type === 'ack');
    assert.equal(retry.seq, first.seq);
    assert.equal(((await onA.get('/v1/rooms/once/messages')).body as unknown[]).length, 2);
  });

  test("one connection's pubs are stored in the order sent, though the pool answers their checks out of order", async (t) => {
    const node: TestServer = await startServer(t, { postgres: database(), postgresPool: 8 });
    const bob = await userApi(node, 'bob');
    await bob.post('/v1/rooms', { name: 'ordered' });
    const c = await connectWs(node.url, { token: bob.token! });
    t.after(() => c.close());
    for (let i = 0; i < 300; i++) c.send({ type: 'pub', room: 'ordered', text: `t${i}`, ref: `r${i}` });
    await c.next((f) => f.type === 'ack' && f.ref === 'r299', 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const acks = new Map(c.frames.filter((f) => f.type === 'ack').map((f) => [f.ref, f.seq]));
    assert.equal(acks.size, 300);
    for (let i = 0; i < 300; i++) assert.equal(acks.get(`r${i}`), i + 1, `r${i} is seq ${i + 1}`);
  });

  test('a user deleted on node A is cut off on node B at once (with Redis), and their token is refused there', {
    skip: noRedis,
  }, async (t) => {
    const bus = { redis: REDIS_URL, redisChannel: `porthouse:test:${randomUUID()}` };
    const a: TestServer = await startServer(t, { postgres: database(), ...bus });
    const b: TestServer = await startServer(t, { postgres: database(), ...bus });
    const bob = await userApi(a, 'leaver');
    await bob.post('/v1/rooms', { name: 'leavers' });
    assert.equal((await bob.delete('/v1/rooms/leavers')).status, 204);
    // B has verified (and cached) bob's token, and holds a connection of his.
    const bobOnB = b.api.as(bob.token);
    assert.equal((await bobOnB.get('/v1/me')).status, 200);
    const ws = await connectWs(b.url, { token: bob.token! });
    const closed = ws.closed();
    assert.equal((await bob.delete('/v1/users/leaver')).status, 204);
    assert.equal((await closed).code, 4401, 'B closes his connection');
    assert.equal((await bobOnB.get('/v1/me')).body.code, 'token_invalid', 'B refuses his token');
  });
});
