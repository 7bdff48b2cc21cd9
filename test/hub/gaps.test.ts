// A gap seen live (a message arrives ahead of its turn and the one before it never does): every
// subscription of the room reads the missing messages from the store, and those that read the
// same page share the read and the frames, so a room's hundred subscribers cost one query and
// one serialization per message, not a hundred. The node counts such reads by reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Outgoing } from '../../src/hub/outgoing.js';
import type { Subscriber } from '../../src/hub/subscription.js';
import { startServer, userApi } from '../support/server.js';

function subscriber(name: string): Subscriber & { got: Outgoing[] } {
  const got: Outgoing[] = [];
  return { actor: { name, admin: false }, got, send: (out) => got.push(out) };
}

const seqs = (s: { got: Outgoing[] }) => s.got.filter((o) => o.frame.type === 'msg').map((o) => o.seq);

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('subscriptions that read the same gap share one read and the same frames, and the node counts them', async (t) => {
  const server = await startServer(t, { reorderWait: 0 });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  await ada.post('/v1/rooms/r/messages', { text: 'm1' });
  const subs = Array.from({ length: 20 }, () => subscriber('ada'));
  for (const s of subs) await server.hub.subscribe(s, 'r');
  const resumes = server.hub.stats().catchUps.resume;
  assert.equal(resumes, 20, 'each subscribe reads from its head once');

  // Two messages stored without a word on the bus (as if their node died before publishing)...
  const room = (await server.store.getRoom('r'))!;
  for (const text of ['m2', 'm3'])
    await server.store.appendMessage(room, { author: 'ada', text, via: 'http' });
  // ...then one that is published: every subscription sees 4 come after 1.
  await ada.post('/v1/rooms/r/messages', { text: 'm4' });
  await until(() => subs.every((s) => seqs(s).length === 3), 'every subscriber to have 2, 3 and 4');

  for (const s of subs) assert.deepEqual(seqs(s), [2, 3, 4], 'the gap filled from the store, in order, once');
  const frame = (s: { got: Outgoing[] }, seq: number) => s.got.find((o) => o.seq === seq);
  for (const seq of [2, 3])
    assert.ok(
      subs.every((s) => frame(s, seq) === frame(subs[0]!, seq)),
      `every subscriber got the one frame of ${seq}`,
    );
  assert.equal(server.hub.stats().catchUps.gap, 20);

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /^porthouse_hub_catch_ups_total\{reason="gap"\} 20$/m);
  assert.match(metrics, /^porthouse_hub_catch_ups_total\{reason="resume"\} 20$/m);
  assert.match(metrics, /^porthouse_hub_catch_ups_total\{reason="resync"\} 0$/m);
  for (const s of subs) server.hub.drop(s);
});
