// Identical concurrent reads share the next read: far fewer queries, and never an answer read
// before the caller asked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadCoalescer } from '../../src/store/read-coalescer.js';

/** A read that resolves when told to, recording when it was issued. */
function controlledReads() {
  const issued: { at: number; finish: (value: number) => void; fail: (err: Error) => void }[] = [];
  let clock = 0;
  const read = () =>
    new Promise<number>((resolve, reject) => {
      const at = ++clock;
      issued.push({ at, finish: resolve, fail: reject });
    });
  return { issued, read, now: () => clock };
}

test('callers arriving while a read runs share one next read, issued after they asked', async () => {
  const shared = new ReadCoalescer();
  const { issued, read, now } = controlledReads();
  const first = shared.run('k', read);
  const asked = now();
  const later = Array.from({ length: 100 }, () => shared.run('k', read));
  assert.equal(issued.length, 1, 'nothing more is issued while the first read runs');
  issued[0]!.finish(1);
  assert.equal(await first, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(issued.length, 2, 'one next read for all hundred');
  assert.ok(issued[1]!.at > asked, 'issued after they asked');
  issued[1]!.finish(2);
  assert.deepEqual([...new Set(await Promise.all(later))], [2], 'none of them got the older answer');
  // Nothing running now: the next caller reads at once.
  const alone = shared.run('k', read);
  assert.equal(issued.length, 3);
  issued[2]!.finish(3);
  assert.equal(await alone, 3);
});

test('other keys do not wait, and a failed read fails only the callers sharing it', async () => {
  const shared = new ReadCoalescer();
  const { issued, read } = controlledReads();
  const a = shared.run('a', read);
  const b = shared.run('b', read);
  assert.equal(issued.length, 2, 'another key reads at once');
  const aLater = shared.run('a', read);
  issued[0]!.fail(new Error('connection lost'));
  await assert.rejects(a, /connection lost/);
  await new Promise((r) => setImmediate(r));
  assert.equal(issued.length, 3, 'the next read still runs after a failure');
  issued[2]!.finish(7);
  assert.equal(await aLater, 7);
  issued[1]!.finish(5);
  assert.equal(await b, 5);
});
