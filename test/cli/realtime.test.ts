// The real-time client commands as a user runs them: listen (ws, sse) through a server crash
// and restart with nothing missed or repeated, send --via ws, ping --via ws.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { CLI, run, serve } from '../support/cli.js';
import { Api, PASSWORD, tempDir } from '../support/server.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function setUp() {
  const dir = tempDir('porthouse-cli-rt-');
  dirs.push(dir);
  const node = await serve(dir);
  const api = new Api(node.url);
  await api.post('/v1/users', { name: 'ada', password: PASSWORD });
  const token = (await api.post('/v1/tokens', { name: 'ada', password: PASSWORD })).body.token as string;
  const ada = api.as(token);
  await ada.post('/v1/rooms', { name: 'r' });
  return { dir, node, ada, token };
}

function spawnListen(
  args: string[],
  token: string,
): { proc: ChildProcess; lines: string[]; exited: Promise<number> } {
  const proc = spawn(process.execPath, [CLI, 'listen', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORTHOUSE_TOKEN: token },
  });
  const lines: string[] = [];
  let buffer = '';
  proc.stdout!.on('data', (d) => {
    buffer += d;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.resume();
  const exited = new Promise<number>((resolve) => proc.on('exit', (code) => resolve(code ?? -1)));
  return { proc, lines, exited };
}

const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** The TCP door's URL, from the line `porthouse tcp listening on tcp://…`. */
async function tcpUrlOf(lines: string[]): Promise<string> {
  await waitFor(() => lines.some((l) => l.startsWith('porthouse tcp listening on ')));
  return lines
    .find((l) => l.startsWith('porthouse tcp listening on '))!
    .split(' ')
    .pop()!;
}

for (const via of ['ws', 'sse', 'tcp']) {
  test(`listen --via ${via} prints each message once, on one line, in order, across a kill -9 and restart of the server`, {
    timeout: 60_000,
  }, async () => {
    const { dir, node, ada, token } = await setUp();
    const port = new URL(node.url).port;
    const tcpUrl = await tcpUrlOf(node.lines);
    await ada.post('/v1/rooms/r/messages', { text: 'before listening' });
    const listener = spawnListen(
      ['r', '--via', via, '--since', '0', '--count', '4', '--server', node.url, '--tcp', tcpUrl],
      token,
    );
    try {
      await waitFor(() => listener.lines.length >= 1);
      await ada.post('/v1/rooms/r/messages', { text: 'second,\non two lines \\o/' });
      await waitFor(() => listener.lines.length >= 2);
      node.proc.kill('SIGKILL');
      await node.exited;
      const again = await serve(dir, ['--port', port, '--tcp-port', new URL(tcpUrl).port]);
      try {
        const api = new Api(again.url, token);
        await api.post('/v1/rooms/r/messages', { text: 'third' });
        await api.post('/v1/rooms/r/messages', { text: 'fourth' });
        assert.equal(await listener.exited, 0);
        assert.deepEqual(listener.lines, [
          '#1 ada: before listening',
          // One line per message, whatever the text holds.
          '#2 ada: second,\\non two lines \\\\o/',
          '#3 ada: third',
          '#4 ada: fourth',
        ]);
      } finally {
        again.proc.kill('SIGTERM');
        await again.exited;
      }
    } finally {
      listener.proc.kill('SIGTERM');
      node.proc.kill('SIGKILL');
    }
  });
}

test('send --via ws|tcp is acknowledged with its seq; ping --via ws|tcp reports round trips', async () => {
  const { node, ada, token } = await setUp();
  try {
    const tcpUrl = await tcpUrlOf(node.lines);
    const overTcp = await run(['send', 'r', 'over tcp', '--via', 'tcp', '--tcp', tcpUrl], undefined, {
      PORTHOUSE_TOKEN: token,
    });
    assert.equal(overTcp.code, 0, overTcp.stderr);
    assert.match(overTcp.stdout, /^sent to r as #1$/m);
    const tcpPing = await run(['ping', '--via', 'tcp', '--count', '3', '--tcp', tcpUrl], undefined, {
      PORTHOUSE_TOKEN: token,
    });
    assert.equal(tcpPing.code, 0, tcpPing.stderr);
    assert.match(tcpPing.stdout, /^3 pings over tcp: min [\d.]+ ms/m);
    const sent = await run(['send', 'r', 'over the socket', '--via', 'ws', '--server', node.url], undefined, {
      PORTHOUSE_TOKEN: token,
    });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^sent to r as #2$/m);
    const history = await ada.get('/v1/rooms/r/messages');
    assert.deepEqual(
      history.body.map((m: any) => [m.text, m.via]),
      [
        ['over tcp', 'tcp'],
        ['over the socket', 'ws'],
      ],
    );
    const pinged = await run(['ping', '--via', 'ws', '--count', '5', '--server', node.url], undefined, {
      PORTHOUSE_TOKEN: token,
    });
    assert.equal(pinged.code, 0, pinged.stderr);
    assert.match(
      pinged.stdout,
      /^5 pings over ws: min [\d.]+ ms, avg [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms$/m,
    );
    const refused = await run(['send', 'nowhere', 'x', '--via', 'ws', '--server', node.url], undefined, {
      PORTHOUSE_TOKEN: token,
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /room_not_found/);
    const badToken = await run(['listen', 'r', '--via', 'ws', '--server', node.url], undefined, {
      PORTHOUSE_TOKEN: 'nonsense',
    });
    assert.equal(badToken.code, 1, 'a refused token ends listen instead of retrying forever');
  } finally {
    node.proc.kill('SIGTERM');
    await node.exited;
  }
});
