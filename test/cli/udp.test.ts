// The UDP client commands: send (retried until acked), ping (with loss), and listen, which
// reports a lost datagram as a gap and fills it over REST, and fetches truncated messages whole.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { CLI, run } from '../support/cli.js';
import { startServer, userApi } from '../support/server.js';

/** A UDP relay between one client and the server that drops server→client datagrams on demand. */
async function lossyRelay(serverPort: number, drop: (datagram: string) => boolean) {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', r));
  let client: { address: string; port: number } | undefined;
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    back.send(msg, serverPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (client && !drop(String(msg))) front.send(msg, client.port, client.address);
  });
  return {
    port: front.address().port,
    close: () => {
      front.close();
      back.close();
    },
  };
}

test('send --via udp is acked once durable; ping --via udp reports round trips and loss', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const udp = `127.0.0.1:${server.addresses().find((a) => a.door === 'udp')!.port}`;
  const env = { PORTHOUSE_TOKEN: ada.token! };
  const sent = await run(
    ['send', 'r', 'over udp', '--via', 'udp', '--udp', udp, '--server', server.url],
    undefined,
    env,
  );
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stdout, /^sent to r as #1$/m);
  assert.deepEqual(
    (await ada.get('/v1/rooms/r/messages')).body.map((m: any) => [m.via, m.text]),
    [['udp', 'over udp']],
  );
  const pinged = await run(
    ['ping', '--via', 'udp', '--count', '5', '--udp', udp, '--server', server.url],
    undefined,
    env,
  );
  assert.equal(pinged.code, 0, pinged.stderr);
  assert.match(
    pinged.stdout,
    /^5 pings over udp: min [\d.]+ ms, avg [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms, loss 0\.0 %$/m,
  );
});

test('listen --via udp prints every message in order although a datagram was lost, and a truncated one whole', {
  timeout: 30_000,
}, async (t) => {
  const server = await startServer(t, { udpMaxDatagram: 600 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  let dropped = 0;
  const relay = await lossyRelay(server.addresses().find((a) => a.door === 'udp')!.port, (d) => {
    // Lose the datagram of message #2 (once).
    if (dropped === 0 && d.includes('"type":"msg"') && d.includes('"seq":2,')) {
      dropped++;
      return true;
    }
    return false;
  });
  t.after(() => relay.close());
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      CLI,
      'listen',
      'r',
      '--via',
      'udp',
      '--udp',
      `127.0.0.1:${relay.port}`,
      '--server',
      server.url,
      '--count',
      '4',
    ],
    { env: { ...process.env, PORTHOUSE_TOKEN: ada.token! }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => proc.kill());
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => {
    stdout += d;
  });
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number>((r) => proc.on('exit', (code) => r(code ?? -1)));
  const deadline = Date.now() + 10_000;
  while (!stderr.includes('subscribed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const text of ['one', 'two', 'three', 'z'.repeat(1000)])
    await ada.post('/v1/rooms/r/messages', { text });
  assert.equal(await exited, 0, stderr);
  assert.equal(dropped, 1);
  assert.equal(stdout, `#1 ada: one\n#2 ada: two\n#3 ada: three\n#4 ada: ${'z'.repeat(1000)}\n`);
  assert.match(stderr, /gap: #2–#2 missed; fetching over REST/);
});
