// The WebSocket door: authenticate (header or auth frame), subscribe, publish with ack, and
// receive every message from every door in seq order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';
import { connectWs } from '../../support/ws.js';

test('a token on the upgrade makes the connection ready at once', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  const ready = await c.next((f) => f.type === 'ready');
  assert.deepEqual(ready, { type: 'ready', user: 'ada', admin: false });
});

test('without a token, only auth and ping are accepted until auth succeeds', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const c = await connectWs(server.url);
  t.after(() => c.close());
  c.send({ type: 'ping', ref: 1 });
  assert.deepEqual(await c.next((f) => f.type === 'pong'), { type: 'pong', ref: 1 });
  c.send({ type: 'sub', room: 'lobby', ref: 'early' });
  const refused = await c.next((f) => f.type === 'error');
  assert.equal(refused.code, 'unauthorized');
  assert.equal(refused.ref, 'early');
  c.send({ type: 'auth', token: ada.token, ref: 'a' });
  assert.deepEqual(await c.next((f) => f.type === 'ready'), {
    type: 'ready',
    user: 'ada',
    admin: false,
    ref: 'a',
  });
  c.send({ type: 'sub', room: 'lobby', ref: 's' });
  assert.deepEqual(await c.next((f) => f.type === 'subbed'), {
    type: 'subbed',
    room: 'lobby',
    seq: 0,
    ref: 's',
  });
});

test('a bad token in the auth frame gets one error frame, then close 4401, counted once; a bad token on the upgrade is refused with 401', async (t) => {
  const server = await startServer(t);
  const c = await connectWs(server.url);
  c.send({ type: 'auth', token: 'not-a-token' });
  const error = await c.next((f) => f.type === 'error');
  assert.equal(error.code, 'token_invalid');
  assert.equal((await c.closed()).code, 4401);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /porthouse_errors_total\{door="ws",code="token_invalid"\} 1\n/);
  await assert.rejects(connectWs(server.url, { token: 'garbage' }), (err: any) => err.status === 401);
});

test('no auth frame within the deadline → close 4401', async (t) => {
  const server = await startServer(t, { wsAuthTimeout: 200 });
  const c = await connectWs(server.url);
  const closed = await c.closed();
  assert.equal(closed.code, 4401);
});

test('pub is acked with its seq after it is stored, and reaches every subscriber and the history', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'lobby' });
  await bob.put('/v1/rooms/lobby/members/bob');
  const a = await connectWs(server.url, { token: ada.token! });
  const b = await connectWs(server.url, { token: bob.token! });
  t.after(() => {
    a.close();
    b.close();
  });
  for (const c of [a, b]) {
    c.send({ type: 'sub', room: 'lobby' });
    await c.next((f) => f.type === 'subbed');
  }
  a.send({ type: 'pub', room: 'lobby', text: 'hello over ws', ref: 'r1' });
  assert.deepEqual(await a.next((f) => f.type === 'ack'), { type: 'ack', room: 'lobby', seq: 1, ref: 'r1' });
  const got = await b.next((f) => f.type === 'msg');
  assert.equal(got.text, 'hello over ws');
  assert.equal(got.via, 'ws');
  assert.equal(got.author, 'ada');
  assert.equal(got.seq, 1);
  // REST posts reach WebSocket subscribers too, and ws posts are in the REST history.
  await bob.post('/v1/rooms/lobby/messages', { text: 'hello over http' });
  const second = await a.next((f) => f.type === 'msg' && f.seq === 2);
  assert.equal(second.via, 'http');
  const history = await ada.get('/v1/rooms/lobby/messages');
  assert.deepEqual(
    history.body.map((m: any) => [m.seq, m.via, m.text]),
    [
      [1, 'ws', 'hello over ws'],
      [2, 'http', 'hello over http'],
    ],
  );
});

test('a repeated ref is acknowledged with the first seq and stored once', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'pub', room: 'lobby', text: 'once', ref: 'same' });
  const first = await c.next((f) => f.type === 'ack');
  c.send({ type: 'pub', room: 'lobby', text: 'once', ref: 'same' });
  const second = await c.next((f) => f.type === 'ack', 5000, c.frames.indexOf(first) + 1);
  assert.equal(second.seq, first.seq);
  assert.equal((await ada.get('/v1/rooms/lobby/messages')).body.length, 1);
});

test('edits, deletes, joins, room updates and deletion reach subscribers as frames', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'sub', room: 'lobby' });
  await c.next((f) => f.type === 'subbed');
  await ada.post('/v1/rooms/lobby/messages', { text: 'v1' });
  await ada.patch('/v1/rooms/lobby/messages/1', { text: 'v2' });
  const edit = await c.next((f) => f.type === 'edit');
  assert.equal(edit.text, 'v2');
  assert.ok(edit.editedAt);
  await ada.delete('/v1/rooms/lobby/messages/1');
  assert.deepEqual(
    await c.next((f) => f.type === 'del'),
    { type: 'del', room: 'lobby', seq: 1, by: 'ada' },
    'live, a deletion names who made it',
  );
  await bob.put('/v1/rooms/lobby/members/bob');
  assert.equal((await c.next((f) => f.type === 'member_joined')).user, 'bob');
  await ada.delete('/v1/rooms/lobby/members/bob');
  assert.deepEqual(
    await c.next((f) => f.type === 'member_left'),
    { type: 'member_left', room: 'lobby', user: 'bob', by: 'ada' },
    'a removal names who removed them',
  );
  await ada.patch('/v1/rooms/lobby', { topic: 'news' });
  assert.equal((await c.next((f) => f.type === 'room_updated')).topic, 'news');
  await ada.delete('/v1/rooms/lobby');
  assert.deepEqual(await c.next((f) => f.type === 'room_deleted'), { type: 'room_deleted', room: 'lobby' });
});

test('sub then unsub of one room, sent back to back, are answered in order and leave the connection unsubscribed', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  await c.next((f) => f.type === 'ready');
  // Twice in a row: each frame gets its own answer, in the order sent.
  c.send({ type: 'sub', room: 'lobby', ref: 's1' });
  c.send({ type: 'sub', room: 'lobby', ref: 's2' });
  c.send({ type: 'unsub', room: 'lobby', ref: 'u' });
  await c.next((f) => f.ref === 'u');
  const answers = c.frames.filter((f) => f.ref !== undefined).map((f) => `${f.type} ${f.ref}`);
  assert.deepEqual(answers, ['subbed s1', 'subbed s2', 'unsubbed u']);
  await ada.post('/v1/rooms/lobby/messages', { text: 'nobody here should get this' });
  c.send({ type: 'ping', ref: 'p' });
  await c.next((f) => f.type === 'pong');
  assert.equal(
    c.frames.filter((f) => f.type === 'msg').length,
    0,
    'an unsubscribed connection got a message',
  );
});

test('a subscribed publisher gets its ack before its own message comes round', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'sub', room: 'lobby' });
  await c.next((f) => f.type === 'subbed');
  for (let i = 1; i <= 5; i++) c.send({ type: 'pub', room: 'lobby', text: `m${i}`, ref: `r${i}` });
  await c.next((f) => f.type === 'msg' && f.text === 'm5');
  const order = c.frames
    .filter((f) => f.type === 'ack' || f.type === 'msg')
    .map((f) => (f.type === 'ack' ? `ack ${f.seq}` : `msg ${f.seq}`));
  assert.deepEqual(
    order,
    [1, 2, 3, 4, 5].flatMap((seq) => [`ack ${seq}`, `msg ${seq}`]),
  );
});

test('an auth frame on a connection the upgrade already authenticated: the same user gets ready again, anyone else is refused and nothing changes', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  await c.next((f) => f.type === 'ready');
  c.send({ type: 'auth', token: ada.token, ref: 'again' });
  assert.deepEqual(await c.next((f) => f.ref === 'again'), {
    type: 'ready',
    user: 'ada',
    admin: false,
    ref: 'again',
  });
  for (const [token, ref] of [
    [bob.token, 'bob'],
    ['not-a-token', 'junk'],
  ]) {
    c.send({ type: 'auth', token, ref });
    const refused = await c.next((f) => f.ref === ref);
    assert.deepEqual([refused.type, refused.code], ['error', 'bad_request']);
  }
  c.send({ type: 'ping', ref: 'still' });
  assert.equal((await c.next((f) => f.type === 'pong')).ref, 'still');
  assert.equal(server.ws.connections()[0]?.user, 'ada');
});

test('a typing frame may carry a ref, and a refusal names it', async (t) => {
  const server = await startServer(t, { rateLimits: true });
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const a = await connectWs(server.url, { token: ada.token! });
  const b = await connectWs(server.url, { token: bob.token! });
  t.after(() => {
    a.close();
    b.close();
  });
  a.send({ type: 'sub', room: 'lobby' });
  await a.next((f) => f.type === 'subbed');
  b.send({ type: 'typing', room: 'lobby', ref: 't1' });
  const refused = await b.next((f) => f.type === 'error');
  assert.deepEqual([refused.code, refused.ref], ['not_a_member', 't1']);
  await bob.put('/v1/rooms/lobby/members/bob');
  b.send({ type: 'typing', room: 'lobby', ref: 't2' });
  assert.equal((await a.next((f) => f.type === 'typing')).user, 'bob');
  // typingPerSecond (2) per connection: a burst past it is refused, each refusal with its ref.
  for (let i = 3; i <= 6; i++) b.send({ type: 'typing', room: 'lobby', ref: `t${i}` });
  const limited = await b.next((f) => f.type === 'error' && f.code === 'rate_limited');
  assert.match(String(limited.ref), /^t[3-6]$/);
});
