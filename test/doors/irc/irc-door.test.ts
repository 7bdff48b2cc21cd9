// The IRC door as a raw client sees it: registration and its refusals, channels as rooms,
// messages shared with every other door in one seq order, and the numerics of bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, type TestServer, startServer, userApi } from '../../support/server.js';
import { connectIrc, ircPort, readBatch, registerIrc } from '../../support/irc.js';
import { connectWs } from '../../support/ws.js';
import { connectTcp } from '../../support/tcp.js';

const tcpPort = (server: TestServer) => server.addresses().find((a) => a.door === 'tcp')!.port;

test('without valid credentials a client gets ERR_PASSWDMISMATCH and the close, nothing else', async (t) => {
  const server = await startServer(t);
  await userApi(server, 'ada');
  const c = await connectIrc(ircPort(server));
  c.send('NICK ada', 'USER ada 0 * :Ada', 'JOIN #general');
  const refused = await c.expect('464');
  assert.equal(refused.params[0], 'ada');
  await c.expect('ERROR');
  await c.ended();
  assert.deepEqual(
    c.lines.map((l) => l.command),
    ['464', 'ERROR'],
    'no welcome, no channel',
  );

  const wrong = await connectIrc(ircPort(server));
  wrong.send('PASS not-the-password', 'NICK ada', 'USER ada 0 * :Ada');
  await wrong.expect('464');
  await wrong.ended();
});

test('SASL PLAIN with a password or a token, and PASS with a token, register as that account', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const byPassword = await registerIrc(server, 'ada', PASSWORD);
  t.after(() => byPassword.socket.destroy());
  const welcome = byPassword.lines.find((l) => l.command === '001')!;
  assert.equal(welcome.params[0], 'ada');
  const isupport = byPassword.lines.filter((l) => l.command === '005').flatMap((l) => l.params.slice(1, -1));
  for (const token of ['CHANTYPES=#', 'CASEMAPPING=ascii', 'NICKLEN=32', 'CHANNELLEN=65', 'CHATHISTORY=100'])
    assert.ok(isupport.includes(token), `ISUPPORT has ${token}`);
  assert.ok(isupport.some((w) => w.startsWith('CHANMODES=')));
  assert.ok(isupport.some((w) => w.startsWith('TARGMAX=')));
  assert.ok(
    byPassword.lines.some((l) => l.command === '422'),
    'no MOTD configured: 422',
  );

  const byToken = await registerIrc(server, 'ada', ada.token!);
  t.after(() => byToken.socket.destroy());
  assert.ok(byToken.lines.some((l) => l.command === '900' && l.params[2] === 'ada'));

  // A token in PASS names its user: the nick the client asked for gives way to it.
  const pass = await connectIrc(ircPort(server));
  t.after(() => pass.socket.destroy());
  pass.send(`PASS ${ada.token}`, 'NICK Someone', 'USER x 0 * :x');
  const nick = await pass.expect('NICK');
  assert.deepEqual([nick.source, nick.params[0]], ['someone!someone@porthouse', 'ada']);
  assert.equal((await pass.expect('001')).params[0], 'ada');

  // A wrong SASL password is 904; the client may try again.
  const bad = await connectIrc(ircPort(server));
  t.after(() => bad.socket.destroy());
  bad.send('CAP LS 302', 'NICK ada', 'USER a 0 * :a', 'CAP REQ :sasl', 'AUTHENTICATE PLAIN');
  await bad.expect('AUTHENTICATE');
  bad.send(`AUTHENTICATE ${Buffer.from('\0ada\0wrong password').toString('base64')}`);
  await bad.expect('904');
  bad.send('AUTHENTICATE PLAIN');
  await bad.expect('AUTHENTICATE');
  bad.send(`AUTHENTICATE ${Buffer.from(`\0ada\0${PASSWORD}`).toString('base64')}`, 'CAP END');
  await bad.expect('903');
  await bad.expect('001');
});

test('PRIVMSG is a post: stored with a seq, seen on WebSocket and TCP, and their messages arrive as PRIVMSG', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'general' });
  await bob.put('/v1/rooms/general/members/bob');
  const ws = await connectWs(server.url, { token: bob.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'general' });
  await ws.next((f) => f.type === 'subbed');

  const irc = await registerIrc(server, 'ada', PASSWORD, ['server-time', 'message-tags', 'account-tag']);
  t.after(() => irc.socket.destroy());
  irc.send('JOIN #General');
  const join = await irc.expect('JOIN');
  assert.deepEqual([join.source, join.params[0]], ['ada!ada@porthouse', '#general']);
  const names = await irc.expect('353');
  assert.ok(names.params.at(-1)!.split(' ').includes('@ada'), 'the owner is @');
  await irc.expect('366');

  irc.send('PRIVMSG #general :hello from irssi', 'PRIVMSG #general :\x01ACTION waves\x01');
  const first = await ws.next((f) => f.type === 'msg' && f.seq === 1);
  assert.deepEqual([first.author, first.via, first.text], ['ada', 'irc', 'hello from irssi']);
  assert.equal((await ws.next((f) => f.type === 'msg' && f.seq === 2)).text, '/me waves');

  const tcp = await connectTcp(tcpPort(server));
  t.after(() => tcp.socket.destroy());
  tcp.send({ type: 'auth', token: bob.token });
  await tcp.next((f) => f.type === 'ready');
  tcp.send({ type: 'pub', room: 'general', text: 'from nc\nsecond line', ref: 1 });
  await tcp.next((f) => f.type === 'ack');
  ws.send({ type: 'pub', room: 'general', text: '/me nods', ref: 2 });

  const fromTcp = await irc.next((l) => l.command === 'PRIVMSG' && l.source === 'bob!bob@porthouse');
  assert.deepEqual(fromTcp.params, ['#general', 'from nc']);
  assert.equal(fromTcp.tags.get('msgid'), 'general:3');
  assert.equal(fromTcp.tags.get('account'), 'bob');
  assert.match(fromTcp.tags.get('time')!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const second = await irc.expect('PRIVMSG');
  assert.deepEqual(second.params, ['#general', 'second line'], 'each line of a text is a PRIVMSG');
  assert.equal(second.tags.get('msgid'), undefined, 'only the first line carries the msgid');
  const action = await irc.expect('PRIVMSG');
  assert.equal(action.params[1], '\x01ACTION nods\x01');

  // Without echo-message, the sender does not get its own lines back.
  assert.ok(!irc.lines.some((l) => l.command === 'PRIVMSG' && l.source?.startsWith('ada!')));
  const history = (await ada.get('/v1/rooms/general/messages')).body.map((m: any) => [m.seq, m.via]);
  assert.deepEqual(history, [
    [1, 'irc'],
    [2, 'irc'],
    [3, 'tcp'],
    [4, 'ws'],
  ]);
});

test('echo-message with labeled-response: the echo carries the label and the seq', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const irc = await registerIrc(server, 'ada', PASSWORD, [
    'echo-message',
    'labeled-response',
    'batch',
    'message-tags',
  ]);
  t.after(() => irc.socket.destroy());
  irc.send('JOIN #r');
  await irc.expect('366');
  irc.send('@label=abc PRIVMSG #r :mine');
  const echo = await irc.expect('PRIVMSG');
  assert.equal(echo.tags.get('label'), 'abc');
  assert.equal(echo.tags.get('msgid'), 'r:1');
  irc.send('@label=p1 PING x');
  const pong = await irc.expect('PONG');
  assert.equal(pong.tags.get('label'), 'p1');
  irc.send('@label=w1 WHOIS ada');
  const batch = await irc.expect('BATCH');
  assert.equal(batch.tags.get('label'), 'w1');
  assert.equal(batch.params[1], 'labeled-response');
  const id = batch.params[0]!.slice(1);
  assert.equal((await irc.expect('311')).tags.get('batch'), id);
  await irc.next((l) => l.command === 'BATCH' && l.params[0] === `-${id}`);
});

test('bad input gets the numeric a real server gives, and the connection keeps serving', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'r' });
  const irc = await registerIrc(server, 'ada', PASSWORD);
  t.after(() => irc.socket.destroy());
  irc.send('FROBNICATE now');
  assert.deepEqual((await irc.expect('421')).params.slice(0, 2), ['ada', 'FROBNICATE']);
  irc.send('JOIN');
  assert.equal((await irc.expect('461')).params[1], 'JOIN');
  irc.send('NICK bad!nick');
  assert.equal((await irc.expect('432')).params[1], 'bad!nick');
  irc.send('NICK bob');
  assert.equal((await irc.expect('433')).params[1], 'bob', "another account's name is in use");
  irc.send(`PRIVMSG #r :${'x'.repeat(600)}`);
  await irc.expect('417');
  irc.send(`@+tag=${'y'.repeat(5000)} PRIVMSG #r :hi`);
  await irc.expect('417');
  irc.send('PRIVMSG #r :not joined');
  assert.equal((await irc.expect('404')).params[1], '#r');
  irc.send('PRIVMSG bob :hello');
  assert.equal((await irc.expect('401')).params[1], 'bob');
  irc.send('JOIN #Not_A:Room');
  await irc.expect('403');
  irc.send('NOTICE #r :a notice to a channel not joined gets no error', 'PING :still here');
  const pong = await irc.expect('PONG');
  assert.equal(pong.params.at(-1), 'still here');
  assert.ok(!irc.lines.slice(-2).some((l) => l.command === '404'));
  assert.equal((await ada.get('/v1/rooms/r/messages')).body.length, 0, 'nothing was stored');
});

test('TOPIC, MODE and KICK are the room: a topic set on IRC reaches the WebSocket, a kick removes the member', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'r', topic: 'first' });
  const owner = await registerIrc(server, 'ada', PASSWORD);
  t.after(() => owner.socket.destroy());
  owner.send('JOIN #r');
  assert.equal((await owner.expect('332')).params[2], 'first');
  await owner.expect('366');
  const other = await registerIrc(server, 'bob', PASSWORD);
  t.after(() => other.socket.destroy());
  other.send('JOIN #r');
  await other.expect('366');
  const seen = await owner.next((l) => l.command === 'JOIN' && l.source === 'bob!bob@porthouse');
  assert.equal(seen.params[0], '#r', 'presence shows as JOIN');

  const ws = await connectWs(server.url, { token: bob.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'r' });
  await ws.next((f) => f.type === 'subbed');
  other.send('TOPIC #r :not mine to set');
  await other.expect('482');
  owner.send('TOPIC #r :set over irc');
  assert.equal((await ws.next((f) => f.type === 'room_updated')).topic, 'set over irc');
  assert.deepEqual((await other.expect('TOPIC')).params, ['#r', 'set over irc']);
  assert.equal((await ada.get('/v1/rooms/r')).body.topic, 'set over irc');

  owner.send('MODE #r');
  assert.equal((await owner.expect('324')).params[2], '+nt');
  owner.send('MODE #r +s');
  await other.next((l) => l.command === 'MODE' && l.params[1] === '+is');
  assert.equal((await ada.get('/v1/rooms/r')).body.private, true);

  other.send('KICK #r ada');
  await other.expect('482');
  owner.send('KICK #r bob :enough');
  const kick = await other.next((l) => l.command === 'KICK');
  assert.deepEqual(kick.params.slice(0, 2), ['#r', 'bob']);
  assert.equal(kick.source, 'ada!ada@porthouse', 'the KICK comes from who removed them');
  await ws.next((f) => f.type === 'member_left' && f.user === 'bob' && f.by === 'ada');
  assert.equal((await ada.get('/v1/rooms/r/members/bob')).status, 404);

  // The room is private now and bob no longer a member: invite-only.
  other.send('JOIN #r');
  assert.equal((await other.expect('473')).params[1], '#r');
  owner.send('INVITE bob #r');
  await owner.expect('341');
  assert.equal((await other.expect('INVITE')).params[1], '#r');
  other.send('JOIN #r');
  await other.expect('366');
});

test('a JOIN of a channel nobody made creates the room, owned by the joiner; PART leaves it', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  const irc = await registerIrc(server, 'ada', PASSWORD);
  t.after(() => irc.socket.destroy());
  irc.send('JOIN #fresh');
  await irc.expect('366');
  assert.equal((await ada.get('/v1/rooms/fresh')).body.owner, 'ada');
  const other = await registerIrc(server, 'bob', PASSWORD);
  t.after(() => other.socket.destroy());
  other.send('JOIN #fresh');
  await other.expect('366');
  assert.equal((await bob.get('/v1/rooms/fresh/members/bob')).status, 200);
  other.send('PING after-join');
  await other.expect('PONG');
  assert.ok(
    !other.lines.some((l) => l.command === 'INVITE'),
    'joining a public room is not an invitation to it',
  );
  await irc.next((l) => l.command === 'JOIN' && l.source === 'bob!bob@porthouse');
  other.send('PART #fresh :bye');
  assert.deepEqual((await other.expect('PART')).params, ['#fresh', 'bye']);
  assert.equal((await bob.get('/v1/rooms/fresh/members/bob')).status, 404);
  await irc.next((l) => l.command === 'PART' && l.source === 'bob!bob@porthouse');
  irc.send('LIST');
  const listed = await irc.expect('322');
  assert.equal(listed.params[1], '#fresh');
  await irc.expect('323');
});

test('edits and deletions from other doors reach IRC as a NOTICE and a REDACT', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const plain = await registerIrc(server, 'ada', PASSWORD);
  t.after(() => plain.socket.destroy());
  const redacting = await registerIrc(server, 'ada', PASSWORD, ['draft/message-redaction', 'message-tags']);
  t.after(() => redacting.socket.destroy());
  for (const c of [plain, redacting]) {
    c.send('JOIN #r');
    await c.expect('366');
  }
  await ada.post('/v1/rooms/r/messages', { text: 'typo' });
  await ada.patch('/v1/rooms/r/messages/1', { text: 'fixed' });
  const edit = await redacting.expect('NOTICE');
  assert.deepEqual(edit.params, ['#r', '(edited #1) fixed']);
  assert.equal(edit.tags.get('+draft/reply'), 'r:1');
  await ada.delete('/v1/rooms/r/messages/1');
  const redact = await redacting.expect('REDACT');
  assert.deepEqual(redact.params, ['#r', 'r:1']);
  assert.equal(redact.source, 'ada!ada@porthouse', 'the REDACT comes from who deleted it');
  await plain.next((l) => l.command === 'NOTICE' && /^\(edited #1\)/.test(l.params[1]!));
  assert.match((await plain.next((l) => l.command === 'NOTICE')).params[1]!, /was deleted/);

  // REDACT from IRC deletes it on every door.
  await ada.post('/v1/rooms/r/messages', { text: 'regret' });
  redacting.send('REDACT #r r:2');
  await redacting.next((l) => l.command === 'REDACT' && l.params[1] === 'r:2');
  assert.equal((await ada.get('/v1/rooms/r/messages/2')).body.deleted, true);
});

test('CHATHISTORY fills the gap a dropped client missed, by msgid, as a batch', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const caps = ['batch', 'server-time', 'message-tags', 'draft/chathistory'];
  const first = await registerIrc(server, 'ada', PASSWORD, caps);
  first.send('JOIN #r', 'PRIVMSG #r :one');
  await first.expect('366');
  while ((await ada.get('/v1/rooms/r/messages')).body.length < 1) await new Promise((r) => setTimeout(r, 10));
  first.socket.destroy();
  for (const text of ['two', 'three', 'four']) await ada.post('/v1/rooms/r/messages', { text });

  const again = await registerIrc(server, 'ada', PASSWORD, caps);
  t.after(() => again.socket.destroy());
  again.send('JOIN #r', 'CHATHISTORY AFTER #r msgid=r:1 50');
  const { start, lines } = await readBatch(again);
  assert.deepEqual(start.params.slice(1), ['chathistory', '#r']);
  const texts = lines.map((l) => l.params[1]);
  assert.deepEqual(texts, ['two', 'three', 'four']);

  again.send('CHATHISTORY LATEST #r * 2');
  const got = (await readBatch(again)).lines.map((l) => l.tags.get('msgid'));
  assert.deepEqual(got, ['r:3', 'r:4']);
  again.send(
    'CHATHISTORY BEFORE #r msgid=r:3 1',
    'CHATHISTORY SIDEWAYS #r * 1',
    'CHATHISTORY BEFORE #nope msgid=nope:1 5',
  );
  await again.next((l) => l.tags.get('msgid') === 'r:2');
  assert.deepEqual((await again.expect('FAIL')).params.slice(0, 2), ['CHATHISTORY', 'UNKNOWN_COMMAND']);
  assert.deepEqual((await again.expect('FAIL')).params.slice(0, 2), ['CHATHISTORY', 'INVALID_TARGET']);
});

test('typing from IRC reaches the WebSocket, and typing from the WebSocket reaches IRC as TAGMSG', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'r' });
  await bob.put('/v1/rooms/r/members/bob');
  const irc = await registerIrc(server, 'ada', PASSWORD, ['message-tags']);
  t.after(() => irc.socket.destroy());
  irc.send('JOIN #r');
  await irc.expect('366');
  const ws = await connectWs(server.url, { token: bob.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'r' });
  await ws.next((f) => f.type === 'subbed');
  irc.send('@+typing=active TAGMSG #r');
  assert.equal((await ws.next((f) => f.type === 'typing')).user, 'ada');
  ws.send({ type: 'typing', room: 'r' });
  const tag = await irc.expect('TAGMSG');
  assert.equal(tag.tags.get('+typing'), 'active');
  assert.equal(tag.source, 'bob!bob@porthouse');
});

test('IRC connections are listed in /v1/sockets as door irc, and QUIT ends with ERROR', async (t) => {
  const server = await startServer(t);
  const admin = await userApi(server, 'root', { admin: true });
  const irc = await registerIrc(server, 'root', PASSWORD);
  irc.send('JOIN #lobby');
  await irc.expect('366');
  const sockets = (await admin.get('/v1/sockets')).body.sockets as any[];
  const listening = sockets.find((s) => s.door === 'irc' && s.state === 'listening');
  assert.equal(listening.localPort, ircPort(server));
  const mine = sockets.find((s) => s.door === 'irc' && s.state === 'connected');
  assert.deepEqual([mine.user, mine.rooms, mine.remotePort], ['root', ['lobby'], irc.socket.localPort]);
  irc.send('QUIT :gone');
  assert.match((await irc.expect('ERROR')).params[0]!, /Quit: gone/);
  await irc.ended();
});

test('a client that says nothing is PINGed, and closed when it does not answer', async (t) => {
  const server = await startServer(t, { ircPingInterval: 1000 });
  await userApi(server, 'ada');
  const irc = await registerIrc(server, 'ada', PASSWORD);
  const ping = await irc.expect('PING', 3000);
  irc.send(`PONG :${ping.params[0]}`);
  await irc.expect('PING', 3000);
  assert.match((await irc.expect('ERROR', 3000)).params[0]!, /Ping timeout/);
  await irc.ended();
});

test('a client flooding lines is cut off with Excess Flood; others are unaffected', async (t) => {
  const server = await startServer(t, {
    rateLimits: true,
    ircLinesPerSecond: 5,
    ircLinesBurst: 20,
    rateLoginsPerMinute: 100,
  });
  await userApi(server, 'ada');
  const flooder = await registerIrc(server, 'ada', PASSWORD);
  const calm = await registerIrc(server, 'ada', PASSWORD);
  t.after(() => calm.socket.destroy());
  flooder.send(...Array.from({ length: 100 }, (_, i) => `PING ${i}`));
  assert.match((await flooder.expect('ERROR')).params[0]!, /Excess Flood/);
  await flooder.ended();
  calm.send('PING ok');
  assert.equal((await calm.expect('PONG')).params.at(-1), 'ok');
});

test('PRIVMSGs past the per-connection allowance get 404 "slow down", and are not stored', async (t) => {
  const server = await startServer(t, {
    rateLimits: true,
    framePubPerSecond: 1,
    framePubBurst: 3,
    rateLoginsPerMinute: 100,
  });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const irc = await registerIrc(server, 'ada', PASSWORD);
  t.after(() => irc.socket.destroy());
  irc.send('JOIN #r');
  await irc.expect('366');
  irc.send(...Array.from({ length: 6 }, (_, i) => `PRIVMSG #r :m${i}`));
  const refused = await irc.expect('404');
  assert.match(refused.params.at(-1)!, /slow down/);
  irc.send('PING :after');
  await irc.expect('PONG');
  // The allowed three are stored (their commits may still be on their way), the rest never.
  let stored: string[] = [];
  for (let i = 0; i < 100 && stored.length < 3; i++) {
    stored = (await ada.get('/v1/rooms/r/messages')).body.map((m: any) => m.text);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(irc.lines.filter((l) => l.command === '404').length, 3);
  assert.deepEqual(stored, ['m0', 'm1', 'm2']);
});

test('a PONG comes after the echoes of the PRIVMSGs sent before its PING', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const irc = await registerIrc(server, 'ada', PASSWORD, ['echo-message']);
  t.after(() => irc.socket.destroy());
  irc.send('JOIN #r');
  await irc.expect('366');
  irc.send(...Array.from({ length: 20 }, (_, i) => `PRIVMSG #r :m${i}`), 'PING done');
  await irc.expect('PONG');
  const echoes = irc.lines.filter((l) => l.command === 'PRIVMSG').map((l) => l.params[1]);
  assert.deepEqual(
    echoes,
    Array.from({ length: 20 }, (_, i) => `m${i}`),
    'every echo before the PONG',
  );
});

test('CHATHISTORY timestamps are exclusive bounds', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const times: string[] = [];
  for (const text of ['one', 'two', 'three']) {
    times.push((await ada.post('/v1/rooms/r/messages', { text })).body.createdAt);
    await new Promise((r) => setTimeout(r, 5));
  }
  const irc = await registerIrc(server, 'ada', PASSWORD, ['batch', 'server-time', 'draft/chathistory']);
  t.after(() => irc.socket.destroy());
  irc.send('JOIN #r');
  await irc.expect('366');
  const history = async (line: string) => {
    irc.send(line);
    return (await readBatch(irc)).lines.map((l) => l.params[1]);
  };
  const [t1, t2, t3] = times.map((x) => `timestamp=${x}`);
  assert.deepEqual(await history(`CHATHISTORY AFTER #r ${t1} 10`), ['two', 'three']);
  assert.deepEqual(await history(`CHATHISTORY BEFORE #r ${t3} 10`), ['one', 'two']);
  assert.deepEqual(await history(`CHATHISTORY BETWEEN #r ${t1} ${t3} 10`), ['two']);
  assert.deepEqual(await history(`CHATHISTORY BETWEEN #r ${t3} ${t1} 10`), ['two']);
  assert.deepEqual(await history(`CHATHISTORY LATEST #r ${t2} 10`), ['three']);
  assert.deepEqual(await history(`CHATHISTORY AROUND #r ${t2} 3`), ['one', 'two', 'three']);
});

test('registration and queries as servers answer them: realname, SASL limits, MODE +nt, LUSERS, TIME, USERHOST, WHO masks', async (t) => {
  const server = await startServer(t);
  await userApi(server, 'ada');
  await userApi(server, 'bob');
  // An empty realname is a missing parameter.
  const empty = await connectIrc(ircPort(server));
  t.after(() => empty.socket.destroy());
  empty.send('NICK ada', 'USER ada 0 * :');
  assert.deepEqual((await empty.expect('461')).params.slice(0, 2), ['ada', 'USER']);

  // One AUTHENTICATE chunk past 400 bytes is 905; CAP END during SASL aborts it with 906.
  const sasl = await connectIrc(ircPort(server));
  t.after(() => sasl.socket.destroy());
  sasl.send('CAP LS 302', 'CAP REQ :sasl', 'AUTHENTICATE PLAIN');
  await sasl.expect('AUTHENTICATE');
  sasl.send(`AUTHENTICATE ${'A'.repeat(450)}`);
  assert.equal((await sasl.expect('905')).params[0], '*');
  sasl.send('AUTHENTICATE PLAIN');
  await sasl.expect('AUTHENTICATE');
  sasl.send(`PASS :${PASSWORD}`, 'NICK ada', 'USER ada 0 * :Ada Lovelace', 'CAP END');
  await sasl.expect('906');
  await sasl.expect('001');

  sasl.send('JOIN #r');
  await sasl.expect('366');
  // Every room is +n and +t already: setting them is a no-op, taking them off is refused.
  const before = sasl.lines.length;
  sasl.send('MODE #r +nt', 'MODE #r -n', 'PING modes');
  await sasl.expect('PONG');
  assert.deepEqual(
    sasl.lines.slice(before, -1).map((l) => [l.command, l.params[1]]),
    [['472', 'n']],
  );
  const bob = await registerIrc(server, 'bob', PASSWORD);
  t.after(() => bob.socket.destroy());
  bob.send('JOIN #r');
  await bob.expect('366');
  await sasl.next((l) => l.command === 'JOIN' && l.source === 'bob!bob@porthouse');

  sasl.send('LUSERS');
  assert.match((await sasl.expect('251')).params[1]!, /There are 2 users/);
  assert.match((await sasl.expect('255')).params[1]!, /I have 2 clients/);
  sasl.send('TIME');
  assert.equal((await sasl.expect('391')).params[1], 'porthouse');
  sasl.send('USERHOST ada nobody bob');
  assert.equal((await sasl.expect('302')).params[1], 'ada=+ada@porthouse bob=+bob@porthouse');
  sasl.send('WHO b*');
  const who = await sasl.next((l) => l.command === '352' || l.command === '315');
  assert.deepEqual([who.command, who.params[5]], ['352', 'bob']);
  assert.equal((await sasl.expect('315')).params[1], 'b*');
  sasl.send('WHOIS ada');
  assert.equal((await sasl.expect('311')).params[5], 'Ada Lovelace', 'the realname USER gave');
});
