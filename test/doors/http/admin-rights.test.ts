// An admin grants or takes away another user's admin right with PATCH /v1/users/{user}. Taken
// away, it ends at once: tokens issued with it no longer carry it, and the user's live
// connections close with rights_changed (4001 on WebSocket) and reconnect without it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteStore } from '../../../src/store/store-sqlite.js';
import { type Api, PASSWORD, startServer, tempDir, userApi } from '../../support/server.js';
import { openSse } from '../../support/sse.js';
import { connectTcp } from '../../support/tcp.js';
import { connectWs } from '../../support/ws.js';
import { signal } from '../../support/signal.js';

test('an admin takes the right away: the old token stops carrying it at once and every live connection of theirs ends with rights_changed', async (t) => {
  const server = await startServer(t);
  const root = await userApi(server, 'root', { admin: true });
  const eve = await userApi(server, 'eve', { admin: true });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'secret', private: true });
  // eve sees the private room only as an admin, over every door.
  assert.equal((await eve.get('/v1/rooms/secret/messages')).status, 200);
  const ws = await connectWs(server.url, { token: eve.token! });
  ws.send({ type: 'sub', room: 'secret' });
  await ws.next((f) => f.type === 'subbed');
  const tcp = await connectTcp(server.addresses().find((a) => a.door === 'tcp')!.port);
  t.after(() => {
    ws.close();
    tcp.socket.destroy();
  });
  tcp.send({ type: 'auth', token: eve.token });
  await tcp.next((f) => f.type === 'ready');
  const sse = await openSse(`${server.url}/v1/rooms/secret/events`, { authorization: `Bearer ${eve.token}` });
  t.after(() => sse.close());
  assert.equal(sse.status, 200);

  const revoked = await root.patch('/v1/users/eve', { admin: false });
  assert.equal(revoked.status, 200);
  assert.deepEqual([revoked.body.name, revoked.body.admin], ['eve', false]);

  const closed = await ws.closed();
  assert.deepEqual(
    [closed.code, closed.reason],
    [4001, "The user's rights changed; reconnect to go on with the rights they have now."],
  );
  await tcp.ended();
  assert.equal(tcp.frames.at(-1)?.code, 'rights_changed');
  await sse.ended();
  assert.deepEqual((await eve.get('/v1/me')).body, { name: 'eve', admin: false }, 'the same token, at once');
  assert.equal((await eve.get('/v1/rooms/secret/messages')).status, 404);
  assert.equal((await eve.get('/v1/sockets')).status, 403);
  // Reconnecting with the same token works, without the right.
  const again = await connectWs(server.url, { token: eve.token! });
  t.after(() => again.close());
  assert.equal((await again.next((f) => f.type === 'ready')).admin, false);
  again.send({ type: 'sub', room: 'secret', ref: 's' });
  assert.equal((await again.next((f) => f.type === 'error' && f.ref === 's')).code, 'room_not_found');

  // Granted again: it comes with the next token, not the one issued while it was taken away.
  const without = await login(server.api, 'eve');
  assert.equal((await root.patch('/v1/users/eve', { admin: true })).body.admin, true);
  assert.equal((await without.get('/v1/me')).body.admin, false);
  assert.equal((await (await login(server.api, 'eve')).get('/v1/me')).body.admin, true);

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  for (const door of ['ws', 'tcp'])
    assert.match(metrics, new RegExp(`porthouse_errors_total\\{door="${door}",code="rights_changed"\\} 1\n`));
});

test('only an admin changes rights, never their own; an unknown user, a bad body and a stale If-Match are refused', async (t) => {
  const server = await startServer(t);
  const root = await userApi(server, 'root', { admin: true });
  const ada = await userApi(server, 'ada');
  assert.equal((await ada.patch('/v1/users/ada', { admin: true })).body.code, 'forbidden');
  assert.equal((await root.patch('/v1/users/root', { admin: false })).body.code, 'forbidden');
  assert.equal((await root.patch('/v1/users/nobody', { admin: true })).body.code, 'user_not_found');
  for (const body of [{}, { admin: 'yes' }, { admin: true, name: 'x' }])
    assert.equal(
      (await root.patch('/v1/users/ada', body)).body.code,
      'validation_failed',
      JSON.stringify(body),
    );
  const profile = await root.get('/v1/users/ada');
  const stale = await root.patch('/v1/users/ada', { admin: true }, { 'if-match': '"not-it"' });
  assert.equal(stale.status, 412);
  const granted = await root.patch(
    '/v1/users/ada',
    { admin: true },
    { 'if-match': profile.headers.get('etag')! },
  );
  assert.equal(granted.status, 200);
  assert.notEqual(granted.headers.get('etag'), profile.headers.get('etag'));
  assert.equal(granted.headers.get('etag'), (await root.get('/v1/users/ada')).headers.get('etag'));
});

test('a right taken away on another node (its bus event) ends the connections here and forgets the token', async (t) => {
  const server = await startServer(t);
  const eve = await userApi(server, 'eve', { admin: true });
  assert.equal((await eve.get('/v1/me')).body.admin, true);
  const ws = await connectWs(server.url, { token: eve.token! });
  t.after(() => ws.close());
  await ws.next((f) => f.type === 'ready');
  // What another node does: the store first, then the event.
  await server.store.setAdmin('eve', false);
  await server.bus.publish({ type: 'user_changed', user: 'eve', admin: false });
  assert.equal((await ws.closed()).code, 4001);
  assert.equal((await eve.get('/v1/me')).body.admin, false);
});

async function login(api: Api, name: string): Promise<Api> {
  const t = await api.post('/v1/tokens', { name, password: PASSWORD });
  return api.as(t.body.token);
}

test('an SSE stream still being opened when its admin loses the right is ended too, not left streaming a room it may no longer see', async (t) => {
  const store = new SqliteStore({ dir: tempDir(), synchronous: 'full', maxBatch: 16 });
  const server = await startServer(t, {}, { store });
  const root = await userApi(server, 'root', { admin: true });
  const eve = await userApi(server, 'eve', { admin: true });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'secret', private: true });
  // The route checks access (the first look-up of the room), then the hub subscribes (the
  // second): that one is held until the right is gone.
  const getRoom = store.getRoom.bind(store);
  let lookups = 0;
  const reached = signal();
  const release = signal();
  store.getRoom = async (name) => {
    if (name === 'secret' && ++lookups === 2) {
      reached.fire();
      await release.fired;
    }
    return getRoom(name);
  };
  const opening = openSse(`${server.url}/v1/rooms/secret/events`, { authorization: `Bearer ${eve.token}` });
  await reached.fired;
  assert.equal((await root.patch('/v1/users/eve', { admin: false })).status, 200);
  release.fire();
  const sse = await opening;
  t.after(() => sse.close());
  await sse.ended();
  assert.deepEqual(
    sse.events.map((e) => [e.event, e.data.code]),
    [['error', 'rights_changed']],
  );
});
