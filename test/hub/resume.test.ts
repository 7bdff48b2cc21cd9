// Resume and ordering: `sub` with `since` replays every stored message after it, then goes
// live, with no gap and no duplicate — also while others publish, and across reconnects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../support/server.js';
import { type FrameClient, connectWs } from '../support/ws.js';

const seqsOf = (c: FrameClient, room: string) =>
  c.frames
    .filter((f) => (f.type === 'msg' || f.type === 'del') && f.room === room)
    .map((f) => f.seq as number);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('replays every message after since, then goes live, with no duplicate', async (t) => {
  const server = await startServer(t, { replayPageSize: 7 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  for (let i = 1; i <= 30; i++) await ada.post('/v1/rooms/r/messages', { text: `m${i}` });
  await ada.delete('/v1/rooms/r/messages/12');
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'sub', room: 'r', since: 10 });
  assert.equal((await c.next((f) => f.type === 'subbed')).seq, 30);
  await c.next((f) => f.type === 'msg' && f.seq === 30);
  await ada.post('/v1/rooms/r/messages', { text: 'live' });
  await c.next((f) => f.type === 'msg' && f.seq === 31);
  assert.deepEqual(seqsOf(c, 'r'), range(11, 31));
  const tomb = c.frames.find((f) => f.seq === 12);
  assert.equal(tomb?.type, 'del', 'a tombstone replays as del, so the seq is not missing');
  const subbedAt = c.frames.findIndex((f) => f.type === 'subbed');
  const firstMsg = c.frames.findIndex((f) => f.type === 'msg');
  assert.ok(subbedAt < firstMsg, 'subbed comes before the replay');
});

test('without since, only what is published after the subscription arrives', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  await ada.post('/v1/rooms/r/messages', { text: 'old' });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'sub', room: 'r' });
  assert.equal((await c.next((f) => f.type === 'subbed')).seq, 1);
  await ada.post('/v1/rooms/r/messages', { text: 'new' });
  await c.next((f) => f.type === 'msg');
  assert.deepEqual(seqsOf(c, 'r'), [2]);
});

test('a subscription made during a burst of posts misses nothing and repeats nothing', async (t) => {
  const server = await startServer(t, { replayPageSize: 5 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const total = 400;
  // Posts race with the subscription and its replay.
  const posting = Promise.all(
    range(1, total).map((i) =>
      server.services.messages.post({ name: 'ada', admin: false }, 'r', `m${i}`, 'http'),
    ),
  );
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'sub', room: 'r', since: 0 });
  await posting;
  await c.next((f) => f.type === 'msg' && f.seq === total, 10_000);
  assert.deepEqual(seqsOf(c, 'r'), range(1, total));
});

test('many publishers, subscribers that drop and resume: every subscriber ends with 1..N exactly once, in order', async (t) => {
  const server = await startServer(t, {
    replayPageSize: 16,
    framePubPerSecond: 10_000,
    framePubBurst: 10_000,
  });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const publishers = await Promise.all(range(1, 4).map(() => connectWs(server.url, { token: ada.token! })));
  t.after(() => {
    for (const p of publishers) p.close();
  });
  const perPublisher = 150;
  const total = perPublisher * publishers.length;

  // Each subscriber keeps the seqs it saw across its connections, and reconnects with the last.
  const listeners = range(1, 3).map(() => ({
    seen: [] as number[],
    conn: undefined as FrameClient | undefined,
  }));
  const open = async (l: (typeof listeners)[number]) => {
    const c = await connectWs(server.url, { token: ada.token! });
    l.conn = c;
    const since = l.seen.length > 0 ? l.seen[l.seen.length - 1] : 0;
    c.ws.on('message', (data) => {
      const f = JSON.parse(String(data));
      if (f.type === 'msg') l.seen.push(f.seq);
    });
    c.send({ type: 'sub', room: 'r', since });
    await c.next((f) => f.type === 'subbed');
  };
  await Promise.all(listeners.map(open));

  const publishing = Promise.all(
    publishers.map(async (p, n) => {
      for (let i = 0; i < perPublisher; i++) {
        p.send({ type: 'pub', room: 'r', text: `p${n}-${i}`, ref: `p${n}-${i}` });
        if (i % 10 === 9) await p.next((f) => f.type === 'ack' && f.ref === `p${n}-${i}`, 10_000);
      }
    }),
  );
  // Drop and resume at random moments while the publishers run.
  let drops = 0;
  const chaos = (async () => {
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
      const l = listeners[Math.floor(Math.random() * listeners.length)]!;
      l.conn?.ws.terminate();
      drops++;
      await open(l);
    }
  })();
  await Promise.all([publishing, chaos]);
  for (const l of listeners) {
    const deadline = Date.now() + 10_000;
    while (l.seen[l.seen.length - 1] !== total && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    l.conn?.close();
  }
  assert.equal(drops, 6);
  for (const l of listeners) assert.deepEqual(l.seen, range(1, total));
});
