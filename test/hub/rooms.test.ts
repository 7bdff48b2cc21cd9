// What the hub tells a room beyond messages: presence, typing, and the end of a subscription
// when its user may no longer see the room.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../support/server.js';
import { connectWs } from '../support/ws.js';

test('presence lists each user once, however many connections they have, and follows them leaving', async (t) => {
  const server = await startServer(t, { presenceInterval: 50 });
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'r' });
  const a = await connectWs(server.url, { token: ada.token! });
  t.after(() => a.close());
  a.send({ type: 'sub', room: 'r' });
  assert.deepEqual((await a.next((f) => f.type === 'presence')).online, ['ada']);
  const b1 = await connectWs(server.url, { token: bob.token! });
  const b2 = await connectWs(server.url, { token: bob.token! });
  for (const b of [b1, b2]) b.send({ type: 'sub', room: 'r' });
  await a.next((f) => f.type === 'presence' && f.online.includes('bob'));
  const from = a.frames.length;
  b1.close();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(
    a.frames.slice(from).every((f) => f.type !== 'presence' || f.online.includes('bob')),
    'bob is still online on his other connection',
  );
  b2.close();
  const gone = await a.next((f) => f.type === 'presence' && !f.online.includes('bob'), 5000, from);
  assert.deepEqual(gone.online, ['ada']);
});

test('typing reaches the other subscribers, not the typist, and only members may type', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'r' });
  const a = await connectWs(server.url, { token: ada.token! });
  const b = await connectWs(server.url, { token: bob.token! });
  t.after(() => {
    a.close();
    b.close();
  });
  for (const c of [a, b]) {
    c.send({ type: 'sub', room: 'r' });
    await c.next((f) => f.type === 'subbed');
  }
  a.send({ type: 'typing', room: 'r' });
  assert.deepEqual(await b.next((f) => f.type === 'typing'), { type: 'typing', room: 'r', user: 'ada' });
  b.send({ type: 'typing', room: 'r' });
  assert.equal((await b.next((f) => f.type === 'error')).code, 'not_a_member', 'bob has not joined r');
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(!a.frames.some((f) => f.type === 'typing'), 'the typist does not hear themself');
});

test('a member removed from a private room stops receiving it (unsubbed), others keep it', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'secret', private: true });
  await ada.put('/v1/rooms/secret/members/bob');
  const b = await connectWs(server.url, { token: bob.token! });
  const a = await connectWs(server.url, { token: ada.token! });
  t.after(() => {
    a.close();
    b.close();
  });
  for (const c of [a, b]) {
    c.send({ type: 'sub', room: 'secret' });
    await c.next((f) => f.type === 'subbed');
  }
  await ada.delete('/v1/rooms/secret/members/bob');
  assert.equal((await b.next((f) => f.type === 'unsubbed')).room, 'secret');
  await ada.post('/v1/rooms/secret/messages', { text: 'after bob left' });
  await a.next((f) => f.type === 'msg');
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(!b.frames.some((f) => f.type === 'msg'), 'bob receives nothing more');
});

test('a public room turned private drops its non-member subscribers', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const eve = await userApi(server, 'eve');
  await ada.post('/v1/rooms', { name: 'open' });
  const e = await connectWs(server.url, { token: eve.token! });
  t.after(() => e.close());
  e.send({ type: 'sub', room: 'open' });
  await e.next((f) => f.type === 'subbed');
  await ada.patch('/v1/rooms/open', { private: true });
  assert.equal((await e.next((f) => f.type === 'unsubbed')).room, 'open');
});

test('a private room is invisible to a non-member sub (room_not_found), like REST', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const eve = await userApi(server, 'eve');
  await ada.post('/v1/rooms', { name: 'secret', private: true });
  const e = await connectWs(server.url, { token: eve.token! });
  t.after(() => e.close());
  e.send({ type: 'sub', room: 'secret', ref: 1 });
  assert.equal((await e.next((f) => f.type === 'error')).code, 'room_not_found');
  e.send({ type: 'pub', room: 'secret', text: 'hi', ref: 2 });
  assert.equal((await e.next((f) => f.type === 'error' && f.ref === 2)).code, 'room_not_found');
});

test('an invited user hears member_joined about themself on every connection, once, even following nothing', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  const cy = await userApi(server, 'cy');
  await ada.post('/v1/rooms', { name: 'secret', private: true });
  const b1 = await connectWs(server.url, { token: bob.token! });
  const b2 = await connectWs(server.url, { token: bob.token! });
  const c = await connectWs(server.url, { token: cy.token! });
  t.after(() => {
    for (const conn of [b1, b2, c]) conn.close();
  });
  assert.equal((await ada.put('/v1/rooms/secret/members/bob')).status, 201);
  for (const b of [b1, b2])
    assert.deepEqual(await b.next((f) => f.type === 'member_joined'), {
      type: 'member_joined',
      room: 'secret',
      user: 'bob',
      role: 'member',
    });
  // Now following the room, bob hears the next invite through the room, not twice.
  b1.send({ type: 'sub', room: 'secret' });
  await b1.next((f) => f.type === 'subbed');
  assert.equal((await ada.put('/v1/rooms/secret/members/cy')).status, 201);
  const cyHeard = await c.next((f) => f.type === 'member_joined');
  assert.equal(cyHeard.user, 'cy');
  await b1.next((f) => f.type === 'member_joined' && f.user === 'cy');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(b1.frames.filter((f) => f.type === 'member_joined' && f.user === 'cy').length, 1);
  assert.ok(!b2.frames.some((f) => f.type === 'member_joined' && f.user === 'cy'), 'not about others');
  assert.ok(!c.frames.some((f) => f.type === 'member_joined' && f.user === 'bob'), 'nor to others');
});
