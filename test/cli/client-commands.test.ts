// The command line as a new user's whole client: register and log in to a server it does not
// run on, keep the token per server (0600), manage rooms and members, page through history, edit
// and delete, and sign out; --json for scripts and the documented exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../support/cli.js';
import { startServer } from '../support/server.js';

const PASSWORD = 'correct horse battery';

/** A person at their own terminal: their own config directory, nothing in the environment. */
function person() {
  const config = mkdtempSync(join(tmpdir(), 'porthouse-person-'));
  const env = { XDG_CONFIG_HOME: config, PORTHOUSE_SERVER: '', PORTHOUSE_TOKEN: '' };
  return {
    config,
    cli: (args: string[], input?: string) => run(args, input, env),
  };
}

test('register, log in, rooms, invite, history paging, edit and delete, log out: the CLI alone', async (t) => {
  const server = await startServer(t);
  const ada = person();
  const bob = person();

  const registered = await ada.cli(['register', 'ada', '--server', server.url], `${PASSWORD}\n`);
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.stdout, new RegExp(`signed in to ${server.url} as ada`));
  const file = join(ada.config, 'porthouse', 'credentials.json');
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the token file is its owner’s only');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(saved.current, server.url);
  assert.equal(saved.servers[server.url].name, 'ada');

  // Later commands need no --server and no token: the login is current.
  const who = await ada.cli(['whoami']);
  assert.equal(who.stdout, `ada on ${server.url}\n`);
  assert.equal(JSON.parse((await ada.cli(['whoami', '--json'])).stdout).name, 'ada');

  assert.equal((await bob.cli(['register', 'bob', '--server', server.url], PASSWORD)).code, 0);
  // A second login (to the same server) replaces the first.
  assert.equal((await bob.cli(['login', 'bob', '--server', server.url], PASSWORD)).code, 0);

  const created = await ada.cli(['room', 'create', 'lobby', '--private', '--title', 'The lobby']);
  assert.equal(created.stdout, 'created private room lobby\n');
  assert.equal((await bob.cli(['room', 'show', 'lobby'])).code, 1, 'private: bob cannot see it');
  assert.equal((await ada.cli(['invite', 'lobby', 'bob'])).stdout, 'bob is a member of lobby\n');
  const listed = JSON.parse((await bob.cli(['rooms', '--json'])).stdout);
  assert.deepEqual(
    listed.map((r: { name: string; role: string }) => [r.name, r.role]),
    [['lobby', 'member']],
  );
  assert.match((await ada.cli(['rooms'])).stdout, /lobby {2}owner {2}last #0 {2}The lobby/);
  assert.match((await ada.cli(['members', 'lobby'])).stdout, /ada {2}owner[\s\S]*bob {2}member/);
  assert.equal((await ada.cli(['room', 'set', 'lobby', '--topic', 'hello'])).code, 0);
  assert.match((await bob.cli(['room', 'show', 'lobby'])).stdout, /topic: hello/);

  for (const text of ['one', 'two', 'three', 'four', 'five'])
    assert.equal((await ada.cli(['send', 'lobby', text])).code, 0);

  // History pages oldest first, and says where the older page starts (the API's Link header).
  const latest = await bob.cli(['history', 'lobby', '--limit', '2']);
  assert.deepEqual(
    latest.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('  ')[0]),
    ['#4', '#5'],
  );
  assert.match(latest.stdout, /#5 {2}\S+ \S+ {2}ada \[http\] {2}five/);
  assert.equal(latest.stderr, 'older: porthouse history lobby --before 4 --limit 2\n');
  const older = JSON.parse(
    (await bob.cli(['history', 'lobby', '--before', '4', '--limit', '2', '--json'])).stdout,
  );
  assert.deepEqual(
    older.messages.map((m: { text: string }) => m.text),
    ['two', 'three'],
  );
  assert.deepEqual(older.older, { before: 2 });

  assert.equal((await ada.cli(['edit', 'lobby', '1', 'one, fixed'])).stdout, 'edited #1 in lobby\n');
  assert.equal((await ada.cli(['delete', 'lobby', '2'])).stdout, 'deleted #2 in lobby\n');
  const first = await bob.cli(['history', 'lobby', '--limit', '5', '--before', '3']);
  assert.match(first.stdout, /#1 .*\(edited\) {2}one, fixed/);
  assert.match(first.stdout, /#2 .*\(deleted\)/);

  // Refused by the server: exit 1 and its error code on one line.
  const refused = await bob.cli(['edit', 'lobby', '1', 'not mine']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^porthouse: forbidden: .+\n$/);
  const missing = await bob.cli(['room', 'show', 'nowhere']);
  assert.deepEqual([missing.code, missing.stderr.split(':')[1]?.trim()], [1, 'room_not_found']);
  // Usage: exit 2. Unreachable: exit 3.
  assert.equal((await bob.cli(['history'])).code, 2);
  assert.equal((await bob.cli(['edit', 'lobby', 'x', 'y'])).code, 2);
  const away = await bob.cli(['whoami', '--server', 'http://127.0.0.1:1', '--token', 'x']);
  assert.equal(away.code, 3, away.stderr);
  assert.match(away.stderr, /^porthouse: unreachable: cannot connect/);

  assert.equal((await bob.cli(['leave', 'lobby'])).stdout, 'left lobby\n');
  assert.doesNotMatch((await ada.cli(['members', 'lobby'])).stdout, /bob/);
  assert.equal((await ada.cli(['logout'])).stdout, `signed out of ${server.url}\n`);
  const after = await ada.cli(['whoami']);
  assert.equal(after.code, 2);
  assert.match(after.stderr, /not signed in/);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).servers[server.url], undefined);
});

test('a wrong password is refused with the server’s code, and nothing is saved', async (t) => {
  const server = await startServer(t);
  const ada = person();
  assert.equal((await ada.cli(['register', 'ada', '--server', server.url], PASSWORD)).code, 0);
  await ada.cli(['logout']);
  const wrong = await ada.cli(['login', 'ada', '--server', server.url], 'not the password');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^porthouse: bad_credentials: /);
  assert.equal((await ada.cli(['whoami'])).code, 2);
});

test('login without a name signs in again as the one kept for that server, and needs a name otherwise', async (t) => {
  const server = await startServer(t);
  const ada = person();
  assert.equal((await ada.cli(['register', 'ada', '--server', server.url], PASSWORD)).code, 0);
  const again = await ada.cli(['login', '--server', server.url], PASSWORD);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`signed in to ${server.url} as ada`));

  const stranger = person();
  const nameless = await stranger.cli(['login', '--server', server.url], PASSWORD);
  assert.equal(nameless.code, 2);
  assert.match(nameless.stderr, /^porthouse: expected: login NAME/);
});

test('--json on every command prints JSON, one document per line, and nothing else on stdout', async (t) => {
  const server = await startServer(t);
  const ada = person();
  const bob = person();
  const parse = async (who: ReturnType<typeof person>, args: string[], input?: string) => {
    const r = await who.cli([...args, '--json'], input);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    return lines.map((l) => JSON.parse(l) as Record<string, any>);
  };
  const tcp = `127.0.0.1:${server.addresses().find((a) => a.door === 'tcp')!.port}`;
  const udp = `127.0.0.1:${server.addresses().find((a) => a.door === 'udp')!.port}`;
  const data = ['--data', server.dataDir, '--scrypt-cost', '10'];

  assert.equal((await parse(ada, ['register', 'ada', '--server', server.url], PASSWORD))[0]!.name, 'ada');
  assert.equal((await parse(bob, ['register', 'bob', '--server', server.url], PASSWORD))[0]!.name, 'bob');
  assert.equal((await parse(ada, ['login', 'ada'], PASSWORD))[0]!.name, 'ada');
  assert.equal((await parse(ada, ['whoami']))[0]!.name, 'ada');
  assert.equal((await parse(ada, ['room', 'create', 'lobby']))[0]!.name, 'lobby');
  assert.equal((await parse(ada, ['room', 'set', 'lobby', '--topic', 't']))[0]!.topic, 't');
  assert.equal((await parse(ada, ['room', 'show', 'lobby']))[0]!.owner, 'ada');
  assert.equal((await parse(ada, ['rooms']))[0]![0].name, 'lobby');
  assert.equal((await parse(bob, ['join', 'lobby']))[0]!.user, 'bob');
  assert.equal((await parse(ada, ['members', 'lobby']))[0]!.length, 2);
  assert.equal((await parse(ada, ['send', 'lobby', 'one', '--via', 'http']))[0]!.seq, 1);
  assert.equal((await parse(ada, ['send', 'lobby', 'two', '--via', 'ws']))[0]!.seq, 2);
  assert.equal((await parse(ada, ['send', 'lobby', 'three', '--via', 'tcp', '--tcp', tcp]))[0]!.seq, 3);
  assert.equal((await parse(ada, ['send', 'lobby', 'four', '--via', 'udp', '--udp', udp]))[0]!.seq, 4);
  assert.equal(
    (await parse(ada, ['listen', 'lobby', '--since', '0', '--count', '4'])).filter((f) => f.type === 'msg')
      .length,
    4,
  );
  assert.equal((await parse(ada, ['history', 'lobby', '--limit', '2']))[0]!.older.before, 3);
  assert.equal((await parse(ada, ['edit', 'lobby', '1', 'uno']))[0]!.text, 'uno');
  assert.equal((await parse(ada, ['delete', 'lobby', '2']))[0]!.deleted, true);
  assert.equal((await parse(ada, ['trace', 'lobby', '3']))[0]!.seq, 3);
  assert.equal((await parse(ada, ['ping', '--count', '2']))[0]!.count, 2);
  assert.equal((await parse(ada, ['invite', 'lobby', 'bob']))[0]!.user, 'bob');
  assert.equal((await parse(bob, ['leave', 'lobby']))[0]!.left, 'lobby');
  const chat = await parse(ada, ['chat', 'lobby', '--limit', '1'], 'five\n');
  assert.deepEqual(
    chat.filter((l) => l.type === 'msg').map((m) => m.text),
    ['four', 'five'],
  );

  // The operator's commands too.
  assert.deepEqual((await parse(ada, ['admin', 'add-user', 'root', ...data], `${PASSWORD}\n`))[0], {
    name: 'root',
    admin: false,
    created: true,
  });
  assert.equal((await parse(ada, ['admin', 'grant', 'root', ...data]))[0]!.changed, true);
  const minted = (await parse(ada, ['admin', 'token', 'root', ...data]))[0]!;
  assert.equal(typeof minted.token, 'string');
  const listed = (await parse(ada, ['sockets', '--token', minted.token]))[0] as unknown as {
    state: string;
  }[];
  assert.ok(listed.some((s) => s.state === 'listening'));
  assert.equal((await parse(ada, ['room', 'delete', 'lobby']))[0]!.deleted, 'lobby');
  assert.equal((await parse(ada, ['logout']))[0]!.signedOut, true);
});
