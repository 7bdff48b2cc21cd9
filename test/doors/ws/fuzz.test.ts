// Thousands of random frames over a real WebSocket: the server answers each with a frame or
// ignores it, never crashes, and keeps serving a bystander connection throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { startServer, userApi } from '../../support/server.js';
import { connectWs } from '../../support/ws.js';

const frameText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.json({ maxDepth: 3 }),
  fc
    .record(
      {
        type: fc.constantFrom('auth', 'sub', 'unsub', 'pub', 'typing', 'ping', 'dance', ''),
        room: fc.oneof(fc.constantFrom('fuzz', 'nowhere', 'Bad Room', ''), fc.string({ maxLength: 70 })),
        text: fc.oneof(fc.string({ maxLength: 50 }), fc.constant('\ud800'), fc.integer()),
        since: fc.oneof(fc.integer(), fc.double(), fc.string()),
        ref: fc.oneof(fc.string({ maxLength: 140 }), fc.integer(), fc.constant(null)),
        token: fc.string({ maxLength: 40 }),
      },
      { requiredKeys: ['type'] },
    )
    .map((f) => JSON.stringify(f)),
);

test('3,000 random frames: no crash, the fuzzing connection stays usable, a bystander is served throughout', {
  timeout: 120_000,
}, async (t) => {
  const server = await startServer(t, {
    framePubPerSecond: 1_000_000,
    framePubBurst: 1_000_000,
    typingPerSecond: 1000,
  });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'fuzz' });
  const fuzzer = await connectWs(server.url, { token: ada.token! });
  const bystander = await connectWs(server.url, { token: ada.token! });
  t.after(() => {
    fuzzer.close();
    bystander.close();
  });
  const samples = fc.sample(frameText, { numRuns: 3000, seed: 42 });
  for (let i = 0; i < samples.length; i++) {
    fuzzer.send(samples[i]!);
    if (i % 500 === 499) {
      bystander.send({ type: 'ping', ref: i });
      assert.equal((await bystander.next((f) => f.type === 'pong' && f.ref === i)).ref, i);
    }
  }
  fuzzer.send({ type: 'ping', ref: 'end' });
  await fuzzer.next((f) => f.type === 'pong' && f.ref === 'end', 20_000);
  const errors = fuzzer.frames.filter((f) => f.type === 'error');
  assert.ok(errors.length > 1000, `most random frames are refused (${errors.length})`);
  assert.ok(
    !errors.some((f) => f.code === 'internal'),
    JSON.stringify(errors.find((f) => f.code === 'internal')),
  );
  assert.equal((await server.api.get('/healthz')).status, 200);
});
