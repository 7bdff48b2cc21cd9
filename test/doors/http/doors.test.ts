// GET /v1/doors: a client that found the HTTP port learns every other door of the node, and each
// one listed answers on its port.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startServer } from '../../support/server.js';

/** Connect, write `line`, and resolve with the first data the server sends back. */
function firstAnswer(port: number, line: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(line));
    s.setEncoding('utf8');
    s.once('data', (d: string) => {
      s.destroy();
      resolve(d);
    });
    s.once('error', reject);
  });
}

interface Door {
  door: string;
  protocol: 'tcp' | 'udp';
  port: number;
  tls: boolean;
  path?: string;
}

test('lists every door with its transport and port, without credentials, and each one answers', async (t) => {
  const server = await startServer(t);
  const res = await fetch(`${server.url}/v1/doors`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('cache-control') ?? '', /public/);
  const { doors } = (await res.json()) as { doors: Door[] };
  assert.deepEqual(
    doors.map((d) => d.door),
    ['http', 'ws', 'sse', 'tcp', 'udp', 'irc'],
  );
  for (const a of server.addresses()) {
    const listed = doors.find((d) => d.door === a.door)!;
    assert.equal(listed.port, a.port, `${a.door} on its real port`);
    assert.equal(listed.protocol, a.protocol);
  }
  assert.equal(doors.find((d) => d.door === 'ws')!.path, '/v1/ws');
  const tcp = doors.find((d) => d.door === 'tcp')!;
  const udp = doors.find((d) => d.door === 'udp')!;

  // The TCP door answers a ping line; the UDP door a ping datagram; the IRC door a PING.
  const line = await firstAnswer(tcp.port, '{"type":"ping","ref":"d"}\n');
  assert.match(line, /"type":"pong"/);
  const datagram = await new Promise<string>((resolve) => {
    const u = createSocket('udp4');
    u.once('message', (m) => {
      u.close();
      resolve(String(m));
    });
    u.send('{"type":"ping","ref":"d"}', udp.port, '127.0.0.1');
  });
  assert.match(datagram, /"type":"pong"/);
  const irc = doors.find((d) => d.door === 'irc')!;
  const pong = await firstAnswer(irc.port, 'PING hello\r\n');
  assert.match(pong, /PONG .*hello/);

  // Cacheable: the same list has the same ETag, and a revalidation is a 304.
  const again = await fetch(`${server.url}/v1/doors`, {
    headers: { 'if-none-match': res.headers.get('etag')! },
  });
  assert.equal(again.status, 304);
});
