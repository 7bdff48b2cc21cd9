// POST /v1/rooms/{room}/typing: an HTTP-only client says it is typing, and the room's subscribers
// hear it as the same `typing` event a frame would send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';
import { connectWs } from '../../support/ws.js';

test('a typing notice over REST reaches the WebSocket subscribers of the room, and is never stored', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'lobby' });
  await bob.put('/v1/rooms/lobby/members/bob');
  const ws = await connectWs(server.url, { token: bob.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'lobby' });
  await ws.next((f) => f.type === 'subbed');

  const res = await ada.post('/v1/rooms/lobby/typing');
  assert.equal(res.status, 204);
  const heard = await ws.next((f) => f.type === 'typing');
  assert.deepEqual(heard, { type: 'typing', room: 'lobby', user: 'ada' });
  assert.deepEqual((await ada.get('/v1/rooms/lobby/messages')).body, []);
});

test('refused as posting would be: no token, no such room, a private room one is not in', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'den', private: true });
  assert.equal((await server.api.post('/v1/rooms/den/typing')).status, 401);
  const missing = await ada.post('/v1/rooms/nowhere/typing');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'room_not_found');
  assert.equal((await bob.post('/v1/rooms/den/typing')).status, 404);
});

test('more than typingPerSecond notices from one user are refused with 429 rate_limited', async (t) => {
  const server = await startServer(t, { rateLimits: true, typingPerSecond: 2 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await ada.post('/v1/rooms/lobby/typing')).status);
  assert.deepEqual(statuses.slice(0, 2), [204, 204]);
  const refused = await ada.post('/v1/rooms/lobby/typing');
  assert.equal(refused.status, 429);
  assert.equal(refused.body.code, 'rate_limited');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
});
