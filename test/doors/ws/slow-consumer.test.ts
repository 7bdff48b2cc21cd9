// A client that stops reading cannot hurt anyone else: its unsent bytes are capped, it is cut
// off with 4008, and every other subscriber still gets every message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';
import { clientFrame, rawSubscribe, rawWs, readServerFrames } from '../../support/raw-ws.js';
import { connectWs } from '../../support/ws.js';
import { floodUntilCut, oneTo } from '../../support/flood.js';

test('one subscriber never reads during 1,000 messages of 4 KB: it is cut off, memory stays bounded, the others get everything', {
  timeout: 120_000,
}, async (t) => {
  const server = await startServer(t, { slowConsumerGrace: 500 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'burst' });

  const stalled = await rawWs(server.url, ada.token!);
  stalled.write(clientFrame(JSON.stringify({ type: 'sub', room: 'burst' })));
  await new Promise((r) => setTimeout(r, 100));
  stalled.pause(); // from now on the client reads nothing: the kernel buffers fill, then ours would
  t.after(() => stalled.destroy());

  const readers = await Promise.all([1, 2, 3].map(() => connectWs(server.url, { token: ada.token! })));
  t.after(() => {
    for (const r of readers) r.close();
  });
  for (const r of readers) {
    r.send({ type: 'sub', room: 'burst' });
    await r.next((f) => f.type === 'subbed');
  }

  const heapBefore = process.memoryUsage().heapUsed;
  let peakUnsent = 0;
  const watch = setInterval(() => {
    for (const c of server.ws.connections()) peakUnsent = Math.max(peakUnsent, c.unsent);
  }, 5);
  // 1,000 messages of 4 KB, then more until the stalled connection is cut off.
  const sent = await floodUntilCut(server, 'ws', 'burst', 1000);
  for (const r of readers) await r.next((f) => f.type === 'msg' && f.seq === sent, 20_000);
  clearInterval(watch);

  for (const r of readers) {
    const seqs = r.frames.filter((f) => f.type === 'msg').map((f) => f.seq);
    assert.deepEqual(seqs, oneTo(sent));
  }
  const metrics = String((await server.api.get('/metrics')).body);
  assert.match(metrics, /porthouse_slow_consumers_total\{door="ws"\} 1/);
  // It gets a close frame behind its unread bytes, and is let go of after its grace.
  const cutAt = Date.now();
  while (server.ws.size > 3 && Date.now() - cutAt < 5000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.ws.size, 3, 'only the stalled connection was cut off');
  assert.ok(
    peakUnsent <= server.config.sendBufferLimit + 8192,
    `no connection held more than the limit unsent (peak ${peakUnsent})`,
  );
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(grown < 64 * 1024 * 1024, `heap grew by ${grown} bytes for ${sent * 4} KB of messages`);
});

test('a slow consumer that reads again within its grace gets what it was sent, then 4008, and resumes with since: no gap, no duplicate', {
  timeout: 120_000,
}, async (t) => {
  const server = await startServer(t);
  assert.ok(server.config.slowConsumerGrace > 3000);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'burst' });
  const stalled = await rawWs(server.url, ada.token!);
  t.after(() => stalled.destroy());
  const read = readServerFrames(stalled);
  await rawSubscribe(stalled, read, 'burst');
  stalled.pause();
  const sent = await floodUntilCut(server, 'ws', 'burst');
  // Out of the hub at once (not online, following nothing), though its socket lingers.
  assert.equal(server.hub.stats().subscriptions, 0);
  // Longer than a close handshake is waited for (2 s): a slow reader is not a dead one.
  await new Promise((r) => setTimeout(r, 2500));
  stalled.resume();
  assert.equal(await read.closeCode, 4008);
  const got = read
    .texts()
    .filter((f) => f.type === 'msg')
    .map((f) => f.seq as number);
  assert.ok(got.length > 0 && got.length < sent, `it read ${got.length} of ${sent} before the cut`);
  assert.deepEqual(got, oneTo(got.length));
  const again = await connectWs(server.url, { token: ada.token! });
  t.after(() => again.close());
  again.send({ type: 'sub', room: 'burst', since: got.at(-1) });
  await again.next((f) => f.type === 'msg' && f.seq === sent, 20_000);
  const rest = again.frames.filter((f) => f.type === 'msg').map((f) => f.seq as number);
  assert.deepEqual([...got, ...rest], oneTo(sent), 'no gap and no duplicate across the resume');
});
