// The SSE door: a room's events over plain HTTP, resumable with Last-Event-ID or ?since=, with
// the history's visibility rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';
import { openSse } from '../../support/sse.js';
import { connectWs } from '../../support/ws.js';

test('streams subbed, then every message from every door in seq order, with id = seq', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const s = await openSse(`${server.url}/v1/rooms/r/events`, { authorization: `Bearer ${ada.token}` });
  t.after(() => s.close());
  assert.equal(s.status, 200);
  assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(s.headers.get('cache-control'), 'no-store');
  assert.deepEqual((await s.next((e) => e.event === 'subbed')).data, { type: 'subbed', room: 'r', seq: 0 });
  await ada.post('/v1/rooms/r/messages', { text: 'via http' });
  const ws = await connectWs(server.url, { token: ada.token! });
  t.after(() => ws.close());
  ws.send({ type: 'pub', room: 'r', text: 'via ws', ref: 1 });
  const second = await s.next((e) => e.event === 'msg' && e.data.seq === 2);
  assert.equal(second.id, '2');
  assert.equal(second.data.via, 'ws');
  const msgs = s.events.filter((e) => e.event === 'msg');
  assert.deepEqual(
    msgs.map((e) => [e.id, e.data.text]),
    [
      ['1', 'via http'],
      ['2', 'via ws'],
    ],
  );
});

test('?access_token= works for EventSource; no token is 401, a private room is 404 to outsiders', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const eve = await userApi(server, 'eve');
  await ada.post('/v1/rooms', { name: 'secret', private: true });
  const ok = await openSse(`${server.url}/v1/rooms/secret/events?access_token=${ada.token}`);
  t.after(() => ok.close());
  assert.equal(ok.status, 200);
  await ok.next((e) => e.event === 'subbed');
  const anon = await server.api.get('/v1/rooms/secret/events');
  assert.equal(anon.status, 401);
  const outsider = await eve.get('/v1/rooms/secret/events');
  assert.equal(outsider.status, 404);
  assert.equal(outsider.body.code, 'room_not_found');
  const nowhere = await ada.get('/v1/rooms/nowhere/events');
  assert.equal(nowhere.status, 404);
  const bad = await ada.get('/v1/rooms/secret/events?since=-1');
  assert.equal(bad.status, 422);
});

test('Last-Event-ID resumes after a drop with no gap and no duplicate (and wins over ?since)', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  for (let i = 1; i <= 5; i++) await ada.post('/v1/rooms/r/messages', { text: `m${i}` });
  const first = await openSse(`${server.url}/v1/rooms/r/events?since=0`, {
    authorization: `Bearer ${ada.token}`,
  });
  await first.next((e) => e.id === '5');
  first.close();
  for (let i = 6; i <= 9; i++) await ada.post('/v1/rooms/r/messages', { text: `m${i}` });
  const again = await openSse(`${server.url}/v1/rooms/r/events?since=0`, {
    authorization: `Bearer ${ada.token}`,
    'last-event-id': '5',
  });
  t.after(() => again.close());
  await ada.post('/v1/rooms/r/messages', { text: 'm10' });
  await again.next((e) => e.id === '10');
  const ids = again.events.filter((e) => e.event === 'msg').map((e) => Number(e.id));
  assert.deepEqual(ids, [6, 7, 8, 9, 10]);
});

test('subbed carries the resume point as its id, so a stream dropped before its first message loses nothing', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  for (let i = 1; i <= 3; i++) await ada.post('/v1/rooms/r/messages', { text: `m${i}` });
  const auth = { authorization: `Bearer ${ada.token}` };
  // No since: from the head (3). With since below the head: from since, so a drop during the
  // replay replays it again rather than skipping it.
  const live = await openSse(`${server.url}/v1/rooms/r/events`, auth);
  const subbed = await live.next((e) => e.event === 'subbed');
  assert.equal(subbed.id, '3');
  live.close();
  const replaying = await openSse(`${server.url}/v1/rooms/r/events?since=1`, auth);
  assert.equal((await replaying.next((e) => e.event === 'subbed')).id, '1');
  replaying.close();
  // What EventSource does next: reconnect with the last id it saw.
  for (let i = 4; i <= 5; i++) await ada.post('/v1/rooms/r/messages', { text: `m${i}` });
  const again = await openSse(`${server.url}/v1/rooms/r/events`, { ...auth, 'last-event-id': subbed.id! });
  t.after(() => again.close());
  await again.next((e) => e.id === '5');
  assert.deepEqual(
    again.events.filter((e) => e.event === 'msg').map((e) => e.data.text),
    ['m4', 'm5'],
  );
});

test('HEAD answers the stream’s headers without opening one; unknown query parameters are ignored and ?lastEventId= resumes', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  for (let i = 1; i <= 3; i++) await ada.post('/v1/rooms/r/messages', { text: `m${i}` });
  const head = await fetch(`${server.url}/v1/rooms/r/events`, {
    method: 'HEAD',
    headers: { authorization: `Bearer ${ada.token}` },
  });
  assert.equal(head.status, 200);
  assert.match(head.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(server.sse.size, 0);
  const nobody = await fetch(`${server.url}/v1/rooms/r/events`, { method: 'HEAD' });
  assert.equal(nobody.status, 401);
  // What EventSource polyfills send on reconnect, with a cache buster.
  const s = await openSse(`${server.url}/v1/rooms/r/events?lastEventId=1&_=1764201600000`, {
    authorization: `Bearer ${ada.token}`,
  });
  t.after(() => s.close());
  assert.equal(s.status, 200);
  await s.next((e) => e.id === '3');
  assert.deepEqual(
    s.events.filter((e) => e.event === 'msg').map((e) => e.data.text),
    ['m2', 'm3'],
  );
});

test('heartbeat comments keep an idle stream alive', async (t) => {
  const server = await startServer(t, { sseHeartbeat: 100 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const s = await openSse(`${server.url}/v1/rooms/r/events`, { authorization: `Bearer ${ada.token}` });
  t.after(() => s.close());
  await new Promise((r) => setTimeout(r, 450));
  assert.ok(s.comments >= 2, `${s.comments} heartbeats`);
});

test('the stream ends when the room is deleted, and on server shutdown with a last unavailable event', async () => {
  const server = await startServer(undefined);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'gone' });
  await ada.post('/v1/rooms', { name: 'stays' });
  const gone = await openSse(`${server.url}/v1/rooms/gone/events`, { authorization: `Bearer ${ada.token}` });
  const stays = await openSse(`${server.url}/v1/rooms/stays/events`, {
    authorization: `Bearer ${ada.token}`,
  });
  await gone.next((e) => e.event === 'subbed');
  await stays.next((e) => e.event === 'subbed');
  await ada.delete('/v1/rooms/gone');
  await gone.ended();
  assert.equal(gone.events.at(-1)?.event, 'room_deleted');
  assert.equal(server.sse.size, 1);
  await server.stop();
  await stays.ended();
  const last = stays.events.at(-1)!;
  assert.equal(last.event, 'error');
  assert.equal(last.data.code, 'unavailable', 'a final frame says why the stream ended');
});
