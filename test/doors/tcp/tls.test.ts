// The TCP door over TLS (--tcp-tls-cert/--tcp-tls-key): the same frames, encrypted; a plain
// TCP client cannot speak to it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect } from 'node:tls';
import { RealtimeClient } from '../../../src/client/realtime.js';
import { tcpSocket } from '../../../src/client/tcp-socket.js';
import { startServer, tempDir, userApi } from '../../support/server.js';

test('a TLS client authenticates and publishes over the TCP door; the URL says tls://', async (t) => {
  const dir = tempDir('porthouse-tls-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // A throwaway self-signed certificate for 127.0.0.1 (openssl from the machine's packages).
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const server = await startServer(t, { tcpTlsCert: cert, tcpTlsKey: key });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const door = server.addresses().find((a) => a.door === 'tcp')!;
  assert.match(door.url, /^tls:\/\//);

  // Trust the test certificate for this connection only.
  const ca = readFileSync(cert);
  const socket = connect({ host: '127.0.0.1', port: door.port, ca });
  await new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let buffer = '';
  socket.setEncoding('utf8');
  const lines: any[] = [];
  socket.on('data', (d: string) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      lines.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
  });
  socket.write(`${JSON.stringify({ type: 'auth', token: ada.token })}\n`);
  socket.write(`${JSON.stringify({ type: 'pub', room: 'r', text: 'encrypted', ref: 1 })}\n`);
  const deadline = Date.now() + 5000;
  while (!lines.some((f) => f.type === 'ack') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  socket.destroy();
  assert.deepEqual(
    lines.find((f) => f.type === 'ack'),
    { type: 'ack', room: 'r', seq: 1, ref: 1 },
  );

  // A client that does not speak TLS gets nowhere (the handshake fails; no frame is answered).
  const plain = new RealtimeClient({
    url: door.url.replace('tls://', 'tcp://'),
    token: ada.token!,
    connect: tcpSocket,
    backoffMin: 10_000,
  });
  const refused = await Promise.race([
    plain.ready().then(
      () => 'ready',
      () => 'refused',
    ),
    new Promise((r) => setTimeout(() => r('no answer'), 1000)),
  ]);
  plain.close();
  assert.notEqual(refused, 'ready');
  assert.equal((await ada.get('/v1/rooms/r/messages')).body[0].via, 'tcp');
});
