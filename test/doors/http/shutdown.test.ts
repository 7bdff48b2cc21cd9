// A graceful stop takes no new connections, does not wait on HTTP connections that have nothing
// in flight (not even ones that connected and said nothing, which Node's own idle sweep skips),
// and still lets a request whose body is arriving finish and be answered.
import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';

const open = (url: string) =>
  new Promise<Socket>((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const s = connect(Number(port), hostname);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });

test('stop refuses new connections, closes silent and half-sent ones at once and answers the request in flight', async () => {
  const server = await startServer(undefined, { shutdownTimeout: 30_000 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'lobby' });
  const silent = await open(server.url);
  const halfLine = await open(server.url);
  halfLine.write('GET /healthz HTT');
  const silentClosed = new Promise((r) => silent.once('close', r));
  const halfClosed = new Promise((r) => halfLine.once('close', r));

  // A POST whose headers are in and whose body is still coming.
  const body = JSON.stringify({ text: 'sent while the server stops' });
  const busy = await open(server.url);
  let answer = '';
  busy.setEncoding('utf8');
  busy.on('data', (d: string) => {
    answer += d;
  });
  busy.write(
    `POST /v1/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ada.token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`,
  );
  await new Promise((r) => setTimeout(r, 100));

  const tcpPort = server.addresses().find((a) => a.door === 'tcp')!.port;
  const started = Date.now();
  const stopped = server.stop();
  await Promise.all([silentClosed, halfClosed]);
  // While the request in flight finishes, nobody new gets in on HTTP or TCP.
  for (const port of [Number(new URL(server.url).port), tcpPort])
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', reject);
      }),
      { code: 'ECONNREFUSED' },
      `port ${port} refuses new connections while stopping`,
    );
  const idleClosedAfter = Date.now() - started;
  busy.write(body.slice(5));
  await stopped;
  const stopTook = Date.now() - started;
  assert.match(answer, /^HTTP\/1\.1 201 /, 'the request in flight was answered');
  // Bounds far below the 30 s deadline: the point is that nothing waited for it.
  assert.ok(idleClosedAfter < 5000, `idle connections closed after ${idleClosedAfter} ms`);
  assert.ok(stopTook < 5000, `stop took ${stopTook} ms`);
  busy.destroy();
});
