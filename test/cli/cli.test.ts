// The `porthouse` command, run as a real process: serve, user add, token, send, and a graceful
// stop on SIGTERM.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OPTIONS, flagOf } from '../../src/config.js';
import { run, serve } from '../support/cli.js';
import { Api, tempDir } from '../support/server.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const dataDir = () => {
  const d = tempDir('porthouse-cli-');
  dirs.push(d);
  return d;
};

test('serve on port 0 prints one line per door with its bound address, and serves', async () => {
  const dir = dataDir();
  const node = await serve(dir);
  try {
    assert.match(node.lines[0]!, /^porthouse http listening on http:\/\/127\.0\.0\.1:\d+$/);
    await new Promise((r) => setTimeout(r, 50));
    const port = new URL(node.url).port;
    assert.equal(node.lines[1], `porthouse ws listening on ws://127.0.0.1:${port}/v1/ws`);
    assert.equal((await new Api(node.url).get('/healthz')).status, 200);
  } finally {
    node.proc.kill('SIGTERM');
    assert.equal(await node.exited, 0);
  }
});

test('admin grant --revoke takes the right away, even from a token issued with it; admin grant gives it back with the next token', async () => {
  const dir = dataDir();
  const added = await run(
    ['admin', 'add-user', 'root', '--admin', '--data', dir, '--scrypt-cost', '10'],
    'a long admin password\n',
  );
  assert.equal(added.code, 0, added.stderr);
  const before = (await run(['admin', 'token', 'root', '--data', dir])).stdout.trim();
  const revoked = await run(['admin', 'grant', 'root', '--revoke', '--data', dir]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /user root now not an admin/);
  assert.match(
    (await run(['admin', 'grant', 'root', '--revoke', '--data', dir])).stdout,
    /already not an admin/,
  );
  const unknown = await run(['admin', 'grant', 'nobody', '--data', dir]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /user_not_found/);
  for (const wrong of [
    ['admin', 'add-user', 'x', '--revoke'],
    ['admin', 'token', 'x', '--admin'],
    ['admin', 'frobnicate', 'x'],
    ['admin', 'grant'],
  ]) {
    const refused = await run([...wrong, '--data', dir]);
    assert.equal(refused.code, 2, wrong.join(' '));
    assert.match(
      refused.stderr,
      /^porthouse: (--revoke goes with admin grant|--admin goes with admin add-user|expected: admin add-user NAME)/,
    );
  }

  const node = await serve(dir);
  try {
    const api = new Api(node.url, before);
    assert.deepEqual((await api.get('/v1/me')).body, { name: 'root', admin: false });
    assert.equal((await api.get('/v1/sockets')).status, 403);
    const granted = await run(['admin', 'grant', 'root', '--data', dir]);
    assert.match(granted.stdout, /user root now an admin/);
    const after = (await run(['admin', 'token', 'root', '--data', dir])).stdout.trim();
    assert.deepEqual((await api.as(after).get('/v1/me')).body, { name: 'root', admin: true });
  } finally {
    node.proc.kill('SIGTERM');
    assert.equal(await node.exited, 0);
  }
});

test('the short names user add (password on stdin) and token are the admin commands; send --via http works with them', async () => {
  const dir = dataDir();
  const added = await run(
    ['user', 'add', 'root', '--admin', '--data', dir, '--scrypt-cost', '10'],
    'a long admin password\n',
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /user root added \(admin\)/);
  const again = await run(
    ['user', 'add', 'root', '--data', dir, '--scrypt-cost', '10'],
    'another password\n',
  );
  assert.equal(again.code, 1);
  assert.match(again.stderr, /user_exists/);

  const node = await serve(dir);
  try {
    const tok = await run(['token', 'root', '--data', dir]);
    assert.equal(tok.code, 0, tok.stderr);
    const token = tok.stdout.trim();
    const api = new Api(node.url, token);
    assert.deepEqual((await api.get('/v1/me')).body, { name: 'root', admin: true });
    const login = await api
      .as(undefined)
      .post('/v1/tokens', { name: 'root', password: 'a long admin password' });
    assert.equal(login.status, 201, 'the password from stdin is the password');
    await api.post('/v1/rooms', { name: 'ops' });

    const sent = await run(
      ['send', 'ops', 'hello from the shell', '--via', 'http', '--server', node.url],
      undefined,
      {
        PORTHOUSE_TOKEN: token,
      },
    );
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /sent to ops as #1/);
    // After `--`, a dash is text: not a flag, and not a request for help.
    const dashed = await run(['send', 'ops', '--server', node.url, '--token', token, '--', '-h']);
    assert.equal(dashed.code, 0, dashed.stderr);
    assert.match(dashed.stdout, /sent to ops as #2/);
    const history = await api.get('/v1/rooms/ops/messages');
    assert.deepEqual(
      history.body.map((m: { text: string; via: string }) => [m.text, m.via]),
      [
        ['hello from the shell', 'http'],
        ['-h', 'http'],
      ],
    );

    const refused = await run(['send', 'nowhere', 'x', '--server', node.url, '--token', token]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /room_not_found/);
  } finally {
    node.proc.kill('SIGINT');
    assert.equal(await node.exited, 0, 'SIGINT stops it cleanly too');
  }
});

test('a bad flag exits 2 with the usage; a bad value exits 1 naming the option', async () => {
  const unknown = await run(['serve', '--colour', 'blue']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /usage:/);
  const bad = await run(['serve', '--port', 'eighty', '--data', dataDir()]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid configuration: --port: expected a whole number/);
  const badEnv = await run(['serve', '--data', dataDir()], undefined, { PORTHOUSE_RATE_LIMITS: 'sometimes' });
  assert.equal(badEnv.code, 1);
  assert.match(badEnv.stderr, /PORTHOUSE_RATE_LIMITS/);
  const data = dataDir();
  const noWeb = await run(['serve', '--web', join(data, 'nowhere'), '--data', data]);
  assert.equal(noWeb.code, 1);
  assert.match(
    noWeb.stderr,
    /^porthouse: invalid configuration: --web \(PORTHOUSE_WEB\): no index\.html in /,
  );
  assert.doesNotMatch(noWeb.stderr, /\n {4}at /, 'a message, not a stack trace');
  assert.deepEqual(readdirSync(data), [], 'stopped before creating the database');
});

test('--help after any command prints the usage and exits 0', async () => {
  for (const args of [['serve', '--help'], ['send', '-h'], ['--help']]) {
    const help = await run(args);
    assert.equal(help.code, 0, args.join(' '));
    assert.match(help.stdout, /^usage:/);
  }
});

test('serve --help lists every option of docs/config.md, with its flag and default', async () => {
  const help = await run(['serve', '--help']);
  assert.equal(help.code, 0);
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const flag = name === 'registration' ? '--[no-]registration' : `--${flagOf(name)}`;
    const line = help.stdout
      .split('\n')
      .find((l) => l.trimStart().startsWith(`${flag} `) || l.trim() === flag);
    assert.ok(line, `${flag} is listed`);
    const def =
      spec.default === undefined
        ? 'no default'
        : typeof spec.default === 'boolean'
          ? spec.default
            ? 'on'
            : 'off'
          : String(spec.default);
    assert.ok(
      line.includes(spec.default === undefined ? def : `default ${def}`),
      `${flag}: ${line} shows ${def}`,
    );
  }
  const usage = await run(['--help']);
  assert.match(usage.stdout, /config-doc \| frames-doc/, 'the doc commands are named in the usage');
});

test('a port already in use is said in one line, without a stack trace', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const { port } = blocker.address() as AddressInfo;
  const taken = await run([
    'serve',
    '--port',
    String(port),
    '--tcp-port',
    '0',
    '--udp-port',
    '0',
    '--irc-port',
    '0',
    '--data',
    dataDir(),
  ]);
  assert.equal(taken.code, 1);
  assert.equal(taken.stderr.trim(), `porthouse: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
});

test('--no-registration closes registration; admins still add users from the command line', async () => {
  const dir = dataDir();
  const node = await serve(dir, ['--no-registration']);
  try {
    const r = await new Api(node.url).post('/v1/users', { name: 'eve', password: 'password123' });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'registration_closed');
    const added = await run(['user', 'add', 'eve', '--data', dir, '--scrypt-cost', '10'], 'password123\n');
    assert.equal(added.code, 0, added.stderr);
    assert.equal(
      (await new Api(node.url).post('/v1/tokens', { name: 'eve', password: 'password123' })).status,
      201,
    );
  } finally {
    node.proc.kill('SIGTERM');
    await node.exited;
  }
});

test('SIGTERM during a burst of posts: every post in flight is answered, stored, and the exit is 0', async () => {
  const dir = dataDir();
  const node = await serve(dir);
  const api = new Api(node.url);
  await api.post('/v1/users', { name: 'ada', password: 'password123' });
  const ada = api.as((await api.post('/v1/tokens', { name: 'ada', password: 'password123' })).body.token);
  await ada.post('/v1/rooms', { name: 'burst' });
  const posts = Array.from({ length: 200 }, (_, i) =>
    ada.post('/v1/rooms/burst/messages', { text: `m${i}` }).catch(() => null),
  );
  setTimeout(() => node.proc.kill('SIGTERM'), 5);
  const answers = await Promise.all(posts);
  assert.equal(await node.exited, 0);
  const acked = answers.filter((r) => r?.status === 201).map((r) => r!.body.seq as number);
  for (const r of answers)
    if (r && r.status !== 201) assert.equal(r.status, 503, 'a refused post is told so');

  const again = await serve(dir);
  try {
    const history = await new Api(again.url, ada.token).get('/v1/rooms/burst/messages?after=0&limit=200');
    const stored = new Set(history.body.map((m: { seq: number }) => m.seq));
    for (const seq of acked) assert.ok(stored.has(seq), `acknowledged #${seq} is stored`);
    assert.deepEqual(
      [...stored],
      Array.from({ length: stored.size }, (_, i) => i + 1),
      'no gaps',
    );
  } finally {
    again.proc.kill('SIGTERM');
    await again.exited;
  }
});
