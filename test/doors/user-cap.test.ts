// One user may hold at most maxConnectionsPerUser WebSocket and TCP connections on a node: one
// more is ended as it authenticates with a stable code, other users are served meanwhile, and a
// closed connection frees its place. Off (0) by default.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../support/server.js';
import { connectTcp } from '../support/tcp.js';
import { connectWs } from '../support/ws.js';

/** A TCP connection that authenticates, and what it got: `ready`, or an error and the close. */
async function tcpAuth(
  port: number,
  token: string,
): Promise<{ first: Record<string, unknown>; closed: boolean }> {
  const c = await connectTcp(port);
  c.send({ type: 'auth', token });
  const first = await c.next((f) => f.type === 'ready' || f.type === 'error');
  const closed = await Promise.race([
    c.ended().then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
  ]);
  c.socket.destroy();
  return { first, closed };
}

test('a user at maxConnectionsPerUser: the next WebSocket closes 4429 and the next TCP connection gets the error, other users go on, a closed one frees a place', async (t) => {
  const server = await startServer(t, { maxConnectionsPerUser: 2 });
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  const tcpPort = server.addresses().find((a) => a.door === 'tcp')!.port;

  const first = await connectWs(server.url, { token: ada.token! });
  const second = await connectWs(server.url, { token: ada.token! });
  t.after(() => {
    first.close();
    second.close();
  });
  await first.next((f) => f.type === 'ready');
  await second.next((f) => f.type === 'ready');

  const third = await connectWs(server.url, { token: ada.token! });
  const closed = await third.closed();
  assert.equal(closed.code, 4429);
  assert.match(closed.reason, /ada already has 2 connections open/);
  assert.equal(third.frames.filter((f) => f.type === 'ready').length, 0, 'never ready');

  const overTcp = await tcpAuth(tcpPort, ada.token!);
  assert.deepEqual([overTcp.first['type'], overTcp.first['code']], ['error', 'too_many_connections']);
  assert.equal(overTcp.closed, true, 'then the close');

  const other = await connectWs(server.url, { token: bob.token! });
  t.after(() => other.close());
  assert.equal((await other.next((f) => f.type === 'ready')).user, 'bob', 'another user is not counted');

  first.close();
  await first.closed();
  // The server learns of the close a moment after the client: try until it has.
  let ready = false;
  for (let i = 0; i < 50 && !ready; i++) {
    ready = (await tcpAuth(tcpPort, ada.token!)).first['type'] === 'ready';
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(ready, 'a closed connection frees its place');

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  for (const door of ['ws', 'tcp'])
    assert.match(
      metrics,
      new RegExp(`porthouse_errors_total\\{door="${door}",code="too_many_connections"\\} 1\n`),
      `counted once for ${door}`,
    );
});

test('no per-user limit by default: one user holds many connections', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const conns = await Promise.all(
    Array.from({ length: 20 }, () => connectWs(server.url, { token: ada.token! })),
  );
  t.after(() => {
    for (const c of conns) c.close();
  });
  for (const c of conns) await c.next((f) => f.type === 'ready');
});
