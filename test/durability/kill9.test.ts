// Anything a client was told is stored survives `kill -9`: the server is killed the moment
// acknowledgements arrive, restarted, and every acknowledged message is there exactly once.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { serve } from '../support/cli.js';
import { Api, tempDir } from '../support/server.js';

const ROUNDS = 3;
const CLIENTS = 50;

test(`kill -9 right after 201s, ${ROUNDS} times: every acknowledged message survives, once, with no gaps`, async (t) => {
  const dir = tempDir('porthouse-kill9-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let node = await serve(dir);
  const anon = new Api(node.url);
  await anon.post('/v1/users', { name: 'ada', password: 'password123' });
  const token = (await anon.post('/v1/tokens', { name: 'ada', password: 'password123' })).body
    .token as string;
  await new Api(node.url, token).post('/v1/rooms', { name: 'durable' });
  const acked = new Map<number, string>();

  for (let round = 0; round < ROUNDS; round++) {
    const api = new Api(node.url, token);
    let killed = false;
    const kill = () => {
      if (!killed) {
        killed = true;
        node.proc.kill('SIGKILL');
      }
    };
    // Many clients post in a loop; the first acknowledgement after a few dozen pulls the plug.
    let count = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; !killed; i++) {
          const text = `r${round}-c${c}-${i}`;
          try {
            const r = await api.post('/v1/rooms/durable/messages', { text });
            if (r.status === 201) {
              acked.set(r.body.seq, text);
              if (++count >= 40 + round * 25) kill();
            }
          } catch {
            return; // the connection died with the server
          }
        }
      }),
    );
    assert.equal(await node.exited, 'SIGKILL');
    node = await serve(dir);
  }

  try {
    const api = new Api(node.url, token);
    const history: { seq: number; text: string }[] = [];
    for (let after = 0; ; ) {
      const page = (await api.get(`/v1/rooms/durable/messages?after=${after}&limit=200`)).body as {
        seq: number;
        text: string;
      }[];
      if (page.length === 0) break;
      history.push(...page);
      after = page[page.length - 1]!.seq;
    }
    assert.ok(acked.size >= 40 * ROUNDS, `only ${acked.size} acknowledgements`);
    assert.deepEqual(
      history.map((m) => m.seq),
      Array.from({ length: history.length }, (_, i) => i + 1),
      'seq 1..N, no holes',
    );
    const bySeq = new Map(history.map((m) => [m.seq, m.text]));
    for (const [seq, text] of acked)
      assert.equal(bySeq.get(seq), text, `acknowledged #${seq} is stored as sent`);
    const texts = history.map((m) => m.text);
    assert.equal(new Set(texts).size, texts.length, 'nothing stored twice');
  } finally {
    node.proc.kill('SIGTERM');
    await node.exited;
  }
});
