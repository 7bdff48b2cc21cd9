// Turns keep one connection's writes in arrival order, whatever order their checks finish in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Turns } from '../../src/service/turns.js';

test('a turn is ready only after every earlier turn left; leaving twice is harmless', async () => {
  const turns = new Turns();
  const order: number[] = [];
  const slots = [0, 1, 2, 3].map(() => turns.take());
  // The checks finish in reverse order; the writes still happen 0, 1, 2, 3.
  const writers = [3, 2, 1, 0].map(async (i) => {
    await new Promise((r) => setTimeout(r, (3 - i) * 5));
    await slots[i]!.ready;
    order.push(i);
    slots[i]!.leave();
    slots[i]!.leave();
  });
  await Promise.all(writers);
  assert.deepEqual(order, [0, 1, 2, 3]);
});

test('a turn that gives up (its check failed) lets the next one go', async () => {
  const turns = new Turns();
  const a = turns.take();
  const b = turns.take();
  let bWent = false;
  const waiting = b.ready.then(() => {
    bWent = true;
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(bWent, false);
  a.leave();
  await waiting;
  assert.equal(bWent, true);
});

test('a turn that gives up early does not let a later one overtake an earlier one', async () => {
  const turns = new Turns();
  const a = turns.take();
  const b = turns.take();
  const c = turns.take();
  let cWent = false;
  const waiting = c.ready.then(() => {
    cWent = true;
  });
  b.leave(); // b's check failed at once, while a is still being checked
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(cWent, false, 'c waits for a');
  a.leave();
  await waiting;
  assert.equal(cWent, true);
});
