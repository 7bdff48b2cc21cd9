// The outbox every stream door writes through: frames of one turn go out in one write, an idle
// connection's first frame goes out at once, and a reader that falls behind by more than the
// limit is reported once as a slow consumer.
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

test('an idle connection gets its first frame at once, and the rest of that turn in one write after it', async () => {
  const stream = new RecordingStream();
  const box = new Outbox(stream, { limit: 1024, onOverflow: () => assert.fail('no overflow') });
  box.push(frame('a'));
  assert.deepEqual(stream.writes, ['a'], 'written before the turn ends');
  box.push(frame('b'));
  box.push(frame('c'));
  assert.deepEqual(stream.writes, ['a']);
  await turn();
  assert.deepEqual(stream.writes, ['a', 'bc']);
  await idle();
  box.push(frame('d'));
  assert.deepEqual(stream.writes, ['a', 'bc', 'd'], 'idle again: at once');
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

test('one connection written at once does not stop another from being written at once', () => {
  const one = new RecordingStream();
  const two = new RecordingStream();
  const options = { limit: 1024, onOverflow: () => assert.fail('no overflow') };
  new Outbox(one, options).push(frame('x'));
  new Outbox(two, options).push(frame('x'));
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

test('a frame that the kernel could not take at once counts against the limit', () => {
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
  assert.deepEqual([stream.writes.length, overflows], [1, 0]);
  box.push(frame('y'.repeat(30)));
  assert.equal(overflows, 1);
});

test('a frame larger than the limit is never written, even to an idle connection', () => {
  const stream = new RecordingStream();
  let overflows = 0;
  const box = new Outbox(stream, { limit: 100, onOverflow: () => overflows++ });
  box.push(frame('x'.repeat(150)));
  assert.deepEqual([stream.writes.length, overflows], [0, 1]);
});
