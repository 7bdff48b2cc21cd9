// One user may hold at most maxConnectionsPerUser WebSocket and TCP connections on a node: one
// more is ended as it authenticates with a stable code, other users are served meanwhile, and a
// closed connection frees its place. Off (0) by default.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startServer, userApi } from '../support/server.js';
import { connectWs } from '../support/ws.js';

/** A TCP connection that authenticates; resolves with every line the server sent until it closed, or after `ms`. */
function tcpSession(
  port: number,
  token: string,
  ms = 1500,
): Promise<{ lines: Record<string, unknown>[]; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const lines: Record<string, unknown>[] = [];
    let buffer = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ lines, closed });
    };
    const timer = setTimeout(() => done(false), ms);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buffer += d;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        lines.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => done(true));
    sock.write(`${JSON.stringify({ type: 'auth', token })}\n`);
  });
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

  const overTcp = await tcpSession(tcpPort, ada.token!);
  assert.equal(overTcp.closed, true);
  assert.deepEqual(
    overTcp.lines.map((l) => [l['type'], l['code']]),
    [['error', 'too_many_connections']],
  );

  const other = await connectWs(server.url, { token: bob.token! });
  t.after(() => other.close());
  assert.equal((await other.next((f) => f.type === 'ready')).user, 'bob', 'another user is not counted');

  first.close();
  await first.closed();
  let ready = false;
  for (let i = 0; i < 50 && !ready; i++) {
    const again = await tcpSession(tcpPort, ada.token!, 300);
    ready = again.lines.some((l) => l['type'] === 'ready');
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(ready, 'a closed connection frees its place');

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  for (const door of ['ws', 'tcp'])
    assert.match(
      metrics,
      new RegExp(`porthouse_errors_total\\{door="${door}",code="too_many_connections"\\} [1-9]`),
      `counted for ${door}`,
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
