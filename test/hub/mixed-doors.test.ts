// Twenty clients on one room across every door (WebSocket, TCP, SSE, UDP), publishing from
// every door at once: each reliable subscriber sees 1..N exactly once, in order; the UDP
// listener sees an increasing subsequence (datagrams may be lost, never reordered by us).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startServer, userApi } from '../support/server.js';
import { openSse } from '../support/sse.js';
import { connectWs } from '../support/ws.js';

test('20 mixed clients under load: no gap, duplicate or reordering on the reliable doors', {
  timeout: 60_000,
}, async (t) => {
  const server = await startServer(t, { udpPerSecond: 100_000 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'mix' });
  const token = ada.token!;
  const tcpDoor = server.addresses().find((a) => a.door === 'tcp')!;
  const udpDoor = server.addresses().find((a) => a.door === 'udp')!;
  const seen: Record<string, number[]> = {};

  // 8 WebSocket subscribers.
  const wsClients = await Promise.all(Array.from({ length: 8 }, () => connectWs(server.url, { token })));
  t.after(() => {
    for (const c of wsClients) c.close();
  });
  for (const [i, c] of wsClients.entries()) {
    seen[`ws${i}`] = [];
    c.ws.on('message', (d) => {
      const f = JSON.parse(String(d));
      if (f.type === 'msg') seen[`ws${i}`]!.push(f.seq);
    });
    c.send({ type: 'sub', room: 'mix' });
    await c.next((f) => f.type === 'subbed');
  }
  // 6 TCP subscribers.
  const tcpClients = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const s = connect(tcpDoor.port, tcpDoor.host);
      seen[`tcp${i}`] = [];
      let buf = '';
      let subbed: () => void = () => {};
      const ready = new Promise<void>((r) => {
        subbed = r;
      });
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const f = JSON.parse(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (f.type === 'ready') s.write(`${JSON.stringify({ type: 'sub', room: 'mix' })}\n`);
          if (f.type === 'subbed') subbed();
          if (f.type === 'msg') seen[`tcp${i}`]!.push(f.seq);
        }
      });
      s.write(`${JSON.stringify({ type: 'auth', token })}\n`);
      await ready;
      return s;
    }),
  );
  t.after(() => {
    for (const s of tcpClients) s.destroy();
  });
  // 4 SSE subscribers.
  const sseClients = await Promise.all(
    Array.from({ length: 4 }, () =>
      openSse(`${server.url}/v1/rooms/mix/events`, { authorization: `Bearer ${token}` }),
    ),
  );
  t.after(() => {
    for (const s of sseClients) s.close();
  });
  for (const s of sseClients) await s.next((e) => e.event === 'subbed');
  // 1 UDP listener (address-checked).
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  t.after(() => udp.close());
  seen['udp'] = [];
  let cookie: string | undefined;
  let udpSubbed: () => void = () => {};
  const udpReady = new Promise<void>((r) => {
    udpSubbed = r;
  });
  udp.on('message', (m) => {
    const f = JSON.parse(String(m));
    if (f.type === 'challenge') cookie = f.cookie;
    if (f.type === 'subbed') udpSubbed();
    if (f.type === 'msg') seen['udp']!.push(f.seq);
  });
  const udpSub = () =>
    udp.send(JSON.stringify({ type: 'sub', room: 'mix', token, cookie }), udpDoor.port, '127.0.0.1');
  udpSub();
  while (!cookie) await new Promise((r) => setTimeout(r, 10));
  udpSub();
  await udpReady;

  // Publishers on every door at once: WebSocket (2 of the subscribers), TCP (1), REST, UDP.
  const perPublisher = 60;
  const pubs: Promise<unknown>[] = [];
  for (const [n, c] of wsClients.slice(0, 2).entries())
    pubs.push(
      (async () => {
        for (let i = 0; i < perPublisher; i++)
          c.send({ type: 'pub', room: 'mix', text: `ws${n}-${i}`, ref: `ws${n}-${i}` });
        await c.next((f) => f.type === 'ack' && f.ref === `ws${n}-${perPublisher - 1}`, 20_000);
      })(),
    );
  for (let i = 0; i < perPublisher; i++)
    tcpClients[0]!.write(
      `${JSON.stringify({ type: 'pub', room: 'mix', text: `tcp-${i}`, ref: `tcp-${i}` })}\n`,
    );
  pubs.push(
    Promise.all(
      Array.from({ length: perPublisher }, (_, i) =>
        ada.post('/v1/rooms/mix/messages', { text: `http-${i}` }),
      ),
    ),
  );
  const udpPub = createSocket('udp4');
  t.after(() => udpPub.close());
  const acked = new Set<string>();
  udpPub.on('message', (m) => {
    const f = JSON.parse(String(m));
    if (f.type === 'ack') acked.add(f.ref);
  });
  pubs.push(
    (async () => {
      // Retry until every UDP pub is acked: a lost datagram must not lose (or double) a message.
      for (let round = 0; round < 10 && acked.size < perPublisher; round++) {
        for (let i = 0; i < perPublisher; i++)
          if (!acked.has(`udp-${i}`))
            udpPub.send(
              JSON.stringify({ type: 'pub', room: 'mix', text: `udp-${i}`, ref: `udp-${i}`, token }),
              udpDoor.port,
              '127.0.0.1',
            );
        await new Promise((r) => setTimeout(r, 300));
      }
    })(),
  );
  await Promise.all(pubs);
  const total = perPublisher * 5;
  const deadline = Date.now() + 20_000;
  const reliable = () => Object.entries(seen).filter(([k]) => k !== 'udp');
  const sseSeen = () => sseClients.map((s) => s.events.filter((e) => e.event === 'msg').length);
  while (
    Date.now() < deadline &&
    (reliable().some(([, s]) => s.length < total) || sseSeen().some((n) => n < total))
  )
    await new Promise((r) => setTimeout(r, 50));
  const expected = Array.from({ length: total }, (_, i) => i + 1);
  for (const [who, seqs] of reliable()) assert.deepEqual(seqs, expected, who);
  for (const s of sseClients)
    assert.deepEqual(
      s.events.filter((e) => e.event === 'msg').map((e) => e.data.seq),
      expected,
      'sse',
    );
  const u = seen['udp']!;
  assert.ok(u.length > 0, 'the UDP listener received events');
  for (let i = 1; i < u.length; i++) assert.ok(u[i]! > u[i - 1]!, 'UDP events in increasing seq order');
  assert.equal(acked.size, perPublisher, 'every UDP pub was acked');
  const history = (await ada.get('/v1/rooms/mix/messages?after=0&limit=200')).body.length;
  const rest = (await ada.get('/v1/rooms/mix/messages?after=200&limit=200')).body.length;
  assert.equal(history + rest, total, 'stored once each');
});
