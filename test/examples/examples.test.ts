// The clients in examples/ run against a live server, so they never rot: the Python TCP
// listener, UDP sender and IRC bot (standard library only) and the curl walk-through of the REST API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PASSWORD, startServer, userApi } from '../support/server.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => {
    stdout += d;
  });
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
  return { proc, done, out: () => stdout };
}

test('examples/python/tcp_listen.py follows a room over TCP: history, then live messages from other doors', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'py' });
  await ada.post('/v1/rooms/py/messages', { text: 'before' });
  const tcp = server.addresses().find((a) => a.door === 'tcp')!;
  const py = runProcess(
    'python3',
    [`${EXAMPLES}python/tcp_listen.py`, 'py', '--port', String(tcp.port), '--since', '0', '--count', '3'],
    { PORTHOUSE_TOKEN: ada.token! },
  );
  t.after(() => py.proc.kill());
  const deadline = Date.now() + 10_000;
  while (!py.out().includes('#1 ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await ada.post('/v1/rooms/py/messages', { text: 'live over http' });
  await server.services.messages.post({ name: 'ada', admin: false }, 'py', 'third', 'ws');
  const result = await py.done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '#1 ada: before\n#2 ada: live over http\n#3 ada: third\n');
});

test('examples/curl/walkthrough.sh walks the REST API and every answer is the promised one', async (t) => {
  const server = await startServer(t);
  const result = await runProcess('bash', [`${EXAMPLES}curl/walkthrough.sh`, server.url]).done;
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /walkthrough ok/);
  assert.match(result.stdout, /GET \/v1\/rooms\/\S+\/messages → 304/);
  assert.match(result.stdout, /PATCH \/v1\/rooms\/\S+\/messages\/1 → 412/);
});

test('examples/python/udp_send.py sends over UDP, waits for the ack, and the message is in the history', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'py' });
  const udp = server.addresses().find((a) => a.door === 'udp')!;
  const result = await runProcess(
    'python3',
    [`${EXAMPLES}python/udp_send.py`, 'py', 'hello from python', '--port', String(udp.port)],
    { PORTHOUSE_TOKEN: ada.token! },
  ).done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'sent to py as #1\n');
  const history = (await ada.get('/v1/rooms/py/messages')).body;
  assert.deepEqual(
    history.map((m: any) => [m.seq, m.via, m.text]),
    [[1, 'udp', 'hello from python']],
  );
  const refused = await runProcess(
    'python3',
    [`${EXAMPLES}python/udp_send.py`, 'nowhere', 'x', '--port', String(udp.port)],
    { PORTHOUSE_TOKEN: ada.token! },
  ).done;
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /room_not_found/);
});

test('examples/python/irc_bot.py signs in with SASL, prints the history, then live messages, and answers !ping', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'py' });
  await bob.put('/v1/rooms/py/members/bob');
  await ada.post('/v1/rooms/py/messages', { text: 'before' });
  const irc = server.addresses().find((a) => a.door === 'irc')!;
  const py = runProcess(
    'python3',
    [`${EXAMPLES}python/irc_bot.py`, 'py', '--port', String(irc.port), '--count', '2'],
    { PORTHOUSE_USER: 'bob', PORTHOUSE_PASSWORD: PASSWORD },
  );
  t.after(() => py.proc.kill());
  const deadline = Date.now() + 10_000;
  while (!py.out().includes('#1 ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await ada.post('/v1/rooms/py/messages', { text: '!ping' });
  while (!py.out().includes('#2 ') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await server.services.messages.post({ name: 'ada', admin: false }, 'py', '/me waves', 'ws');
  const result = await py.done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '#1 ada: before\n#2 ada: !ping\n#4 * ada waves\n');
  const history = (await ada.get('/v1/rooms/py/messages')).body;
  assert.deepEqual(
    history.map((m: any) => [m.seq, m.author, m.via, m.text]),
    [
      [1, 'ada', 'http', 'before'],
      [2, 'ada', 'http', '!ping'],
      [3, 'bob', 'irc', 'pong'],
      [4, 'ada', 'ws', '/me waves'],
    ],
  );
});
