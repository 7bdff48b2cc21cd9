// The outbox every stream door writes through: frames of one turn go out in one write, an idle
// connection's frames go out as soon as the callback that queued them ends, and a reader that
// falls behind by more than the limit is reported once as a slow consumer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IDLE_MS, Outbox, type OutboxStream } from '../../src/doors/outbox.js';

/** A socket's writing side that records each write; `backlog` plays bytes the kernel has not taken. */
class RecordingStream implements OutboxStream {
  readonly writes: string[] = [];
  backlog = 0;
  destroyed = false;
  get writableLength(): number {
    return this.backlog;
  }
  write(chunk: Buffer): boolean {
    this.writes.push(chunk.toString());
    return true;
  }
  once(): unknown {
    return this;
  }
  off(): unknown {
    return this;
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const idle = () => new Promise((resolve) => setTimeout(resolve, IDLE_MS + 5));
const frame = (text: string) => Buffer.from(text);

/** Resolves after the callbacks queued with process.nextTick so far (the outbox's prompt flush). */
const ticks = () => new Promise((resolve) => process.nextTick(resolve));

test('an idle connection gets everything one callback queued in one write, once the callback ends', async () => {
  const stream = new RecordingStream();
  const box = new Outbox(stream, { limit: 1024, onOverflow: () => assert.fail('no overflow') });
  box.push(frame('a'));
  box.push(frame('b'));
  // The callback's promise chains (a group commit releasing its posts one by one) come first.
  await Promise.resolve();
  box.push(frame('c'));
  await Promise.resolve();
  assert.deepEqual(stream.writes, []);
  await ticks();
  assert.deepEqual(stream.writes, ['abc'], 'one write, before the turn ends');
  box.push(frame('d'));
  await ticks();
  assert.deepEqual(stream.writes, ['abc'], 'written this turn: busy until the turn ends');
  await turn();
  assert.deepEqual(stream.writes, ['abc', 'd']);
  await idle();
  box.push(frame('e'));
  await ticks();
  assert.deepEqual(stream.writes, ['abc', 'd', 'e'], 'idle again: at the end of the callback');
});

test('an idle connection is written before the turn ends, a busy one at its end', async () => {
  const idleStream = new RecordingStream();
  const busyStream = new RecordingStream();
  const options = { limit: 1024, onOverflow: () => assert.fail('no overflow') };
  const idleBox = new Outbox(idleStream, options);
  const busyBox = new Outbox(busyStream, { ...options, idleMs: 3_600_000 });
  busyBox.push(frame('0'));
  await turn();
  idleBox.push(frame('x'));
  busyBox.push(frame('y'));
  await ticks();
  assert.deepEqual([idleStream.writes, busyStream.writes], [['x'], ['0']]);
  await turn();
  assert.deepEqual(busyStream.writes, ['0', 'y']);
});

test('a connection written to within idleMs is busy: the frames of each turn go out in one write', async () => {
  const stream = new RecordingStream();
  // An hour: however slow this machine's turns, the connection stays busy.
  const box = new Outbox(stream, {
    limit: 1024,
    idleMs: 3_600_000,
    onOverflow: () => assert.fail('no overflow'),
  });
  box.push(frame('a'));
  await turn();
  for (const batch of ['bc', 'de', 'fg']) {
    for (const f of batch) box.push(frame(f));
    assert.equal(stream.writes.at(-1)?.includes(batch[0]!), false, 'nothing of this turn yet');
    await turn();
  }
  assert.deepEqual(stream.writes, ['a', 'bc', 'de', 'fg']);
});

test('a socket that still holds unsent bytes is not idle: its frames wait for the turn and go out together', async () => {
  const stream = new RecordingStream();
  stream.backlog = 10;
  const box = new Outbox(stream, { limit: 1024, onOverflow: () => assert.fail('no overflow') });
  box.push(frame('a'));
  box.push(frame('b'));
  assert.deepEqual(stream.writes, []);
  assert.equal(box.unsent, 12);
  await turn();
  assert.deepEqual(stream.writes, ['ab']);
});

test('one idle connection written does not stop another from being written in the same callback', async () => {
  const one = new RecordingStream();
  const two = new RecordingStream();
  const options = { limit: 1024, onOverflow: () => assert.fail('no overflow') };
  new Outbox(one, options).push(frame('x'));
  new Outbox(two, options).push(frame('x'));
  await ticks();
  assert.deepEqual([one.writes, two.writes], [['x'], ['x']]);
});

test('unsent bytes past the limit report a slow consumer once, drop what is queued, and take nothing more', async () => {
  const stream = new RecordingStream();
  stream.backlog = 90;
  let overflows = 0;
  const box = new Outbox(stream, { limit: 100, onOverflow: () => overflows++ });
  box.push(frame('12345'));
  assert.equal(overflows, 0);
  box.push(frame('1234567890'));
  assert.equal(overflows, 1);
  assert.ok(box.overflowed);
  box.push(frame('more'));
  await turn();
  assert.equal(overflows, 1);
  assert.deepEqual(stream.writes, [], 'nothing queued was written');
});

test('a frame that the kernel could not take at once counts against the limit', async () => {
  const stream = new RecordingStream();
  let overflows = 0;
  const box = new Outbox(stream, { limit: 100, onOverflow: () => overflows++ });
  // Written at once, but the socket kept it all (its reader is not reading).
  stream.write = (chunk: Buffer) => {
    stream.writes.push(chunk.toString());
    stream.backlog += chunk.length;
    return false;
  };
  box.push(frame('x'.repeat(80)));
  await ticks();
  assert.deepEqual([stream.writes.length, overflows], [1, 0]);
  box.push(frame('y'.repeat(30)));
  assert.equal(overflows, 1);
});

test('a frame larger than the limit is never written, even to an idle connection', async () => {
  const stream = new RecordingStream();
  let overflows = 0;
  const box = new Outbox(stream, { limit: 100, onOverflow: () => overflows++ });
  box.push(frame('x'.repeat(150)));
  await turn();
  assert.deepEqual([stream.writes.length, overflows], [0, 1]);
});

test('bytes a socket kept are never overwritten by the next connection’s write', async () => {
  // Each stream keeps the very buffer it was handed, as a socket that could not send at once does.
  const kept: Buffer[] = [];
  const keeping = (): OutboxStream => {
    const stream = new RecordingStream();
    stream.write = (chunk: Buffer) => {
      kept.push(chunk);
      stream.backlog += chunk.length;
      return false;
    };
    return stream;
  };
  const taking = new RecordingStream();
  const options = { limit: 1 << 20, onOverflow: () => assert.fail('no overflow') };
  const boxes = [new Outbox(keeping(), options), new Outbox(taking, options), new Outbox(keeping(), options)];
  for (const [i, box] of boxes.entries()) for (const f of ['a', 'b', 'c']) box.push(frame(`${i}${f}`));
  await turn();
  assert.deepEqual(taking.writes, ['1a1b1c']);
  assert.deepEqual(
    kept.map((b) => b.toString()),
    ['0a0b0c', '2a2b2c'],
  );
  // Enough writes to wrap around the shared memory several times.
  for (let round = 0; round < 50; round++) {
    for (const f of ['x'.repeat(2000), 'y'.repeat(2000)]) boxes[1]!.push(frame(f));
    await turn();
  }
  assert.deepEqual(
    kept.map((b) => b.toString()),
    ['0a0b0c', '2a2b2c'],
  );
});
