// The IRC door against a client library written elsewhere (irc-framework, the one The Lounge and
// Kiwi IRC are built on): SASL, joining, sending, receiving what every other door posts, filling
// a gap with CHATHISTORY, and one seq order across doors for messages posted at once.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import IRC from 'irc-framework';
import { PASSWORD, type TestServer, startServer, userApi } from '../../support/server.js';
import { ircPort } from '../../support/irc.js';
import { connectTcp } from '../../support/tcp.js';
import { connectWs } from '../../support/ws.js';

const door = (server: TestServer, name: string) => server.addresses().find((a) => a.door === name)!.port;

interface Heard {
  nick: string;
  message: string;
  msgid: string | undefined;
}

/** An irc-framework client signed in with SASL, recording every channel PRIVMSG it hears. */
async function ircFramework(server: TestServer, nick: string, password: string) {
  const client = new IRC.Client();
  const heard: Heard[] = [];
  const history: Heard[][] = [];
  client.on('privmsg', (e: any) => {
    const entry = { nick: e.nick, message: e.message, msgid: e.tags?.msgid };
    if (e.batch?.type !== 'chathistory') heard.push(entry);
  });
  client.on('batch end chathistory', (b: any) =>
    history.push(
      b.commands.map((c: any) => ({ nick: c.nick, message: c.params.at(-1), msgid: c.tags?.msgid })),
    ),
  );
  const registered = new Promise<void>((resolve, reject) => {
    client.once('registered', () => resolve());
    client.once('sasl failed', (e: any) => reject(new Error(`sasl failed: ${e.reason}`)));
    client.once('close', () => reject(new Error('closed before registering')));
  });
  client.connect({
    host: '127.0.0.1',
    port: ircPort(server),
    nick,
    username: nick,
    gecos: 'irc-framework test',
    account: { account: nick, password },
    auto_reconnect: false,
  });
  await registered;
  const until = async (check: () => boolean, what: string, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; heard ${JSON.stringify(heard.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const join = async (channel: string) => {
    const joined = new Promise<void>((resolve) =>
      client.on('join', (e: any) => {
        if (e.nick === client.user.nick && e.channel === channel) resolve();
      }),
    );
    client.join(channel);
    await joined;
  };
  return { client, heard, history, until, join, quit: () => client.quit('bye') };
}

test('irc-framework signs in with SASL, joins, sends, and hears REST, WebSocket, TCP and UDP', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'general' });
  await bob.put('/v1/rooms/general/members/bob');
  const irc = await ircFramework(server, 'ada', PASSWORD);
  t.after(() => irc.quit());
  assert.equal(irc.client.user.nick, 'ada');
  assert.ok(irc.client.network.cap.isEnabled('sasl'));
  assert.ok(irc.client.network.cap.isEnabled('server-time'));
  await irc.join('#general');

  irc.client.say('#general', 'hello from irc-framework');
  const ws = await connectWs(server.url, { token: bob.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'general', since: 0 });
  const first = await ws.next((f) => f.type === 'msg' && f.seq === 1);
  assert.deepEqual([first.author, first.via, first.text], ['ada', 'irc', 'hello from irc-framework']);

  await bob.post('/v1/rooms/general/messages', { text: 'over REST' });
  ws.send({ type: 'pub', room: 'general', text: 'over WebSocket', ref: 'w' });
  await ws.next((f) => f.type === 'ack');
  const tcp = await connectTcp(door(server, 'tcp'));
  t.after(() => tcp.socket.destroy());
  tcp.send({ type: 'auth', token: bob.token });
  await tcp.next((f) => f.type === 'ready');
  tcp.send({ type: 'pub', room: 'general', text: 'over TCP', ref: 't' });
  await tcp.next((f) => f.type === 'ack');
  const udp = createSocket('udp4');
  t.after(() => udp.close());
  const acked = new Promise<any>((resolve) => udp.on('message', (m) => resolve(JSON.parse(String(m)))));
  udp.send(
    JSON.stringify({ type: 'pub', room: 'general', text: 'over UDP', ref: 'u', token: bob.token }),
    door(server, 'udp'),
    '127.0.0.1',
  );
  assert.equal((await acked).type, 'ack');

  await irc.until(() => irc.heard.length >= 4, 'four messages');
  assert.deepEqual(irc.heard, [
    { nick: 'bob', message: 'over REST', msgid: 'general:2' },
    { nick: 'bob', message: 'over WebSocket', msgid: 'general:3' },
    { nick: 'bob', message: 'over TCP', msgid: 'general:4' },
    { nick: 'bob', message: 'over UDP', msgid: 'general:5' },
  ]);
});

test('irc-framework fills the gap after a drop with CHATHISTORY AFTER its last msgid', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  await ada.post('/v1/rooms', { name: 'general' });
  await bob.put('/v1/rooms/general/members/bob');
  const before = await ircFramework(server, 'ada', PASSWORD);
  await before.join('#general');
  await bob.post('/v1/rooms/general/messages', { text: 'seen live' });
  await before.until(() => before.heard.length === 1, 'the live message');
  const last = before.heard[0]!.msgid!;
  before.client.connection.end();

  for (const text of ['missed 1', 'missed 2', 'missed 3'])
    await bob.post('/v1/rooms/general/messages', { text });
  const after = await ircFramework(server, 'ada', PASSWORD);
  t.after(() => after.quit());
  assert.ok(after.client.network.cap.isEnabled('batch'));
  await after.join('#general');
  after.client.raw(`CHATHISTORY AFTER #general msgid=${last} 100`);
  await after.until(() => after.history.length === 1, 'the history batch');
  assert.deepEqual(
    after.history[0]!.map((h) => [h.nick, h.message, h.msgid]),
    [
      ['bob', 'missed 1', 'general:2'],
      ['bob', 'missed 2', 'general:3'],
      ['bob', 'missed 3', 'general:4'],
    ],
  );
  assert.equal(after.heard.length, 0, 'history is not mistaken for live messages');
});

test('messages posted at once from IRC, WebSocket and REST arrive on every door in one seq order', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  const cy = await userApi(server, 'cy');
  await ada.post('/v1/rooms', { name: 'mix' });
  for (const u of [bob, cy]) await u.put(`/v1/rooms/mix/members/${u === bob ? 'bob' : 'cy'}`);
  const listener = await ircFramework(server, 'cy', PASSWORD);
  t.after(() => listener.quit());
  await listener.join('#mix');
  const sender = await ircFramework(server, 'ada', PASSWORD);
  t.after(() => sender.quit());
  await sender.join('#mix');
  const ws = await connectWs(server.url, { token: bob.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'mix' });
  await ws.next((f) => f.type === 'subbed');
  const tcp = await connectTcp(door(server, 'tcp'));
  t.after(() => tcp.socket.destroy());
  tcp.send({ type: 'auth', token: cy.token });
  await tcp.next((f) => f.type === 'ready');
  tcp.send({ type: 'sub', room: 'mix' });
  await tcp.next((f) => f.type === 'subbed');

  const n = 15;
  const rest: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    sender.client.say('#mix', `irc ${i}`);
    ws.send({ type: 'pub', room: 'mix', text: `ws ${i}`, ref: i });
    rest.push(cy.post('/v1/rooms/mix/messages', { text: `rest ${i}` }));
  }
  await Promise.all(rest);
  const total = 3 * n;
  const deadline = Date.now() + 10_000;
  let stored: any[] = [];
  while (stored.length < total && Date.now() < deadline) {
    stored = (await ada.get(`/v1/rooms/mix/messages?limit=${total}`)).body;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(stored.length, total);
  const order = stored.map((m) => m.text);
  assert.deepEqual(
    stored.map((m) => m.seq),
    Array.from({ length: total }, (_, i) => i + 1),
  );
  // A connection's messages are stored in the order it sent them (REST requests race each other).
  for (const prefix of ['irc', 'ws'])
    assert.deepEqual(
      order.filter((t) => t.startsWith(`${prefix} `)),
      Array.from({ length: n }, (_, i) => `${prefix} ${i}`),
    );

  await listener.until(() => listener.heard.length >= total, 'every message on IRC', 10_000);
  assert.deepEqual(
    listener.heard.map((h) => h.message),
    order,
    'IRC hears the seq order',
  );
  assert.deepEqual(
    listener.heard.map((h) => h.msgid),
    stored.map((m) => `mix:${m.seq}`),
  );
  const wsOrder: string[] = [];
  while (wsOrder.length < total)
    wsOrder.push((await ws.next((f) => f.type === 'msg' && f.seq === wsOrder.length + 1)).text);
  assert.deepEqual(wsOrder, order, 'the WebSocket hears the same order');
  const tcpOrder: string[] = [];
  while (tcpOrder.length < total)
    tcpOrder.push((await tcp.next((f) => f.type === 'msg' && f.seq === tcpOrder.length + 1)).text);
  assert.deepEqual(tcpOrder, order, 'TCP hears the same order');
});
