// `porthouse chat` through pipes (line mode), as a script would drive it, over each of its
// doors: recent history, then live messages with their door badge; the slash commands; a
// reconnect after the network drops that resumes without losing or repeating a message.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI } from '../../support/cli.js';
import { cuttableProxy } from '../../support/cuttable-proxy.js';
import { type TestServer, startServer, userApi } from '../../support/server.js';
import { connectWs } from '../../support/ws.js';

interface Chat {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly out: () => string;
  /** Resolves with the first output line matching `pattern` (after `from` lines). */
  line(pattern: RegExp, ms?: number): Promise<string>;
  type(line: string): void;
  exit(): Promise<{ code: number | null; stderr: string }>;
}

function startChat(args: string[], env: NodeJS.ProcessEnv): Chat {
  const proc = spawn(process.execPath, [CLI, 'chat', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'porthouse-chat-')),
      TZ: 'UTC',
      ...env,
    },
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => {
    out += d;
  });
  proc.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    proc.on('exit', (code) => resolve({ code, stderr: err })),
  );
  return {
    proc,
    out: () => out,
    async line(pattern, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = out.split('\n').find((l) => pattern.test(l));
        if (found !== undefined) return found;
        if (Date.now() > deadline || proc.exitCode !== null)
          throw new Error(`no line matching ${pattern}; the chat printed:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    type: (line) => proc.stdin.write(`${line}\n`),
    exit: () => exited,
  };
}

async function lobby(t: Parameters<typeof startServer>[0]) {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await bob.post('/v1/rooms', { name: 'lobby', topic: 'the front room' });
  for (let i = 1; i <= 5; i++) await bob.post('/v1/rooms/lobby/messages', { text: `old ${i}` });
  return { server, ada, bob };
}

const env = (server: TestServer | { url: string }, token: string) => ({
  PORTHOUSE_SERVER: server.url,
  PORTHOUSE_TOKEN: token,
});

for (const via of ['ws', 'tcp', 'sse+http'] as const) {
  test(`over ${via}: recent history, then live messages both ways with their door badge`, async (t) => {
    const { server, ada, bob } = await lobby(t);
    const tcp = server.addresses().find((a) => a.door === 'tcp')!;
    const chat = startChat(
      ['lobby', '--via', via, '--limit', '3', '--tcp', `127.0.0.1:${tcp.port}`],
      env(server, ada.token!),
    );
    t.after(() => chat.proc.kill('SIGKILL'));

    const first = await chat.line(/./);
    assert.equal(first, '-- #lobby · the front room', 'the room comes first: nothing about joining it');
    await chat.line(/^#5 \d\d:\d\d bob \[http\] old 5$/);
    assert.ok(!/old 2/.test(chat.out()), '--limit 3: only the last three');
    assert.ok(!chat.out().includes('\u001b'), 'no escape code when the output is not a terminal');
    // The chat joined the public room for ada, so she can talk there.
    assert.equal((await ada.get('/v1/rooms/lobby/members/ada')).status, 200);

    const ws = await connectWs(server.url, { token: bob.token! });
    t.after(() => ws.close());
    ws.send({ type: 'sub', room: 'lobby' });
    await ws.next((f) => f.type === 'subbed');
    ws.send({ type: 'pub', room: 'lobby', text: 'live from bob', ref: 'b1' });
    await chat.line(/^#6 \d\d:\d\d bob \[ws\] live from bob$/);

    chat.type(`hello over ${via}`);
    const heard = await ws.next((f) => f.type === 'msg' && f.author === 'ada');
    assert.equal(heard.text, `hello over ${via}`);
    assert.equal(heard.via, via === 'sse+http' ? 'http' : via);
    await chat.line(new RegExp(`^#7 \\d\\d:\\d\\d ada \\[${heard.via}\\] hello over `));

    chat.type('/me waves');
    await chat.line(/^#8 \d\d:\d\d \* ada waves \[/);
    assert.equal((await ws.next((f) => f.type === 'msg' && f.seq === 8)).text, '/me waves');

    // Each message once, whatever the history page and the replay overlapped.
    assert.equal(chat.out().match(/ old 5$/gm)?.length, 1);
    assert.equal(chat.out().match(/ live from bob$/gm)?.length, 1);
    chat.proc.stdin.end();
    const { code } = await chat.exit();
    assert.equal(code, 0, 'input ran out: the chat ends cleanly');
  });
}

test('/who, /older, /edit, /delete, /join and /part, and a typing notice over REST shown to others', async (t) => {
  const { server, ada, bob } = await lobby(t);
  await bob.post('/v1/rooms', { name: 'dev' });
  const chat = startChat(['lobby', '--limit', '2'], env(server, ada.token!));
  t.after(() => chat.proc.kill('SIGKILL'));
  await chat.line(/old 5$/);

  chat.type('/who');
  await chat.line(/^-- members of #lobby: bob \(owner\), ada$/);
  await chat.line(/^-- here now: ada$/);
  chat.type('/older');
  await chat.line(/^-- older: #2–#3$/);
  await chat.line(/^#2 \d\d:\d\d bob \[http\] old 2$/);
  chat.type('/older');
  await chat.line(/^-- the start of the room$/);
  chat.type('/older');
  await chat.line(/^-- no older messages$/);

  chat.type('mine');
  await chat.line(/^#6 .* ada \[ws\] mine$/);
  chat.type('/edit 6 mine, edited');
  await chat.line(/^#6 edited by ada: mine, edited$/);
  chat.type('/delete 6');
  await chat.line(/^#6 deleted by ada$/);
  chat.type('/delete 1');
  await chat.line(/^-- failed: forbidden: /);
  chat.type('/frobnicate');
  await chat.line(/^-- unknown command \/frobnicate/);

  chat.type('/join dev');
  await chat.line(/^-- #dev$/);
  await bob.post('/v1/rooms/lobby/messages', { text: 'meanwhile in the lobby' });
  await chat.line(/^\[#lobby\] #7 .* bob \[http\] meanwhile in the lobby$/);
  chat.type('in dev');
  const inDev = await chat.line(/ ada \[ws\] in dev$/);
  assert.ok(!inDev.startsWith('['), 'the room talked in needs no tag');
  assert.equal((await bob.get('/v1/rooms/dev/messages')).body[0].text, 'in dev');
  chat.type('/part');
  await chat.line(/^-- you left #dev$/);
  await chat.line(/^-- talking in #lobby$/);
  assert.equal((await bob.get('/v1/rooms/dev/members/ada')).status, 404, '/part leaves the room');
  chat.type('/quit');
  assert.equal((await chat.exit()).code, 0);
});

test('when the network drops, it says so, reconnects, and shows what was missed exactly once', async (t) => {
  for (const via of ['ws', 'sse+http'] as const) {
    const { server, ada, bob } = await lobby(t);
    const proxy = await cuttableProxy(Number(new URL(server.url).port));
    t.after(() => proxy.close());
    const chat = startChat(
      ['lobby', '--via', via],
      env({ url: `http://127.0.0.1:${proxy.port}` }, ada.token!),
    );
    t.after(() => chat.proc.kill('SIGKILL'));
    await chat.line(/old 5$/);
    // Following live before the cut: a message posted now is shown.
    await bob.post('/v1/rooms/lobby/messages', { text: 'before the cut' });
    await chat.line(/#6 .* before the cut$/);

    proxy.cut();
    await chat.line(/^-- connection lost.*; reconnecting over /);
    await bob.post('/v1/rooms/lobby/messages', { text: 'while away' });
    proxy.mend();
    await chat.line(/^-- reconnected; resumed #lobby after #6$/, 15_000);
    await chat.line(/^#7 .* bob \[http\] while away$/);
    await bob.post('/v1/rooms/lobby/messages', { text: 'after' });
    await chat.line(/^#8 .* after$/);
    assert.equal(chat.out().match(/before the cut$/gm)?.length, 1, `${via}: nothing shown twice`);
    chat.proc.kill('SIGTERM');
    assert.equal((await chat.exit()).code, 0, `${via}: SIGTERM ends it cleanly`);
  }
});

test('--json: one JSON object per line, messages as the API shows them, notices as type notice', async (t) => {
  const { server, ada } = await lobby(t);
  const chat = startChat(['lobby', '--json', '--limit', '1'], env(server, ada.token!));
  t.after(() => chat.proc.kill('SIGKILL'));
  await chat.line(/"old 5"/);
  chat.type('scripted');
  await chat.line(/"scripted"/);
  chat.proc.stdin.end();
  assert.equal((await chat.exit()).code, 0);
  const lines = chat
    .out()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], { type: 'notice', text: '#lobby · the front room' });
  const [old, mine] = lines.filter((l) => l.type === 'msg');
  assert.deepEqual([old.seq, old.author, old.text, old.via], [5, 'bob', 'old 5', 'http']);
  assert.deepEqual([mine.seq, mine.author, mine.text, mine.via], [6, 'ada', 'scripted', 'ws']);
  assert.equal(typeof mine.createdAt, 'string');
});

test('refusals end it with the documented exit codes and the server’s code on one line', async (t) => {
  const { server, ada } = await lobby(t);
  await userApi(server, 'cy');
  const bobsOwn = await userApi(server, 'dee');
  await bobsOwn.post('/v1/rooms', { name: 'den', private: true });

  const privateRoom = startChat(['den'], env(server, ada.token!));
  const refused = await privateRoom.exit();
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^porthouse: room_not_found: /m);

  const badVia = await startChat(['lobby', '--via', 'udp'], env(server, ada.token!)).exit();
  assert.equal(badVia.code, 2);
  assert.match(badVia.stderr, /--via udp: chat speaks ws, tcp, sse\+http/);

  const noServer = await startChat(['lobby'], env({ url: 'http://127.0.0.1:9' }, ada.token!)).exit();
  assert.equal(noServer.code, 3);
  assert.match(noServer.stderr, /unreachable/);

  // An account deleted while chatting: the server ends the connection, and the chat with it.
  for (const via of ['ws', 'sse+http']) {
    const eve = await userApi(server, `eve${via === 'ws' ? 1 : 2}`);
    const chat = startChat(['lobby', '--via', via], env(server, eve.token!));
    await chat.line(/old 5$/);
    assert.equal((await eve.delete(`/v1/users/eve${via === 'ws' ? 1 : 2}`)).status, 204);
    const ended = await chat.exit();
    assert.equal(ended.code, 1, `${via}: ${chat.out()}`);
    assert.match(chat.out(), /^-- the server ended the connection: /m);
  }

  const badToken = await startChat(['lobby'], env(server, 'not-a-token')).exit();
  assert.equal(badToken.code, 1);
  assert.match(badToken.stderr, /token_invalid/);
});
