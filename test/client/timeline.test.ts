// A room's timeline as a client shows it: pages, live frames and its own sends, merged by seq.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Timeline } from '../../src/client/timeline.js';
import type { Message } from '../../src/core/types.js';

const msg = (seq: number, text = `m${seq}`): Message => ({
  room: 'r',
  seq,
  id: `id${seq}`,
  author: 'bob',
  text,
  via: 'http',
  createdAt: '2026-01-01T00:00:00.000Z',
});
const seqs = (t: Timeline) => t.messages().map((m) => m.seq);

test('pages and live frames merge by seq: each message once, in order, whatever order they came in', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 120 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 60 }),
      (frames, paged) => {
        const t = new Timeline('r');
        for (const s of frames) t.applyFrame({ type: 'msg', ...msg(s) });
        t.addPage(
          [...new Set(paged)].sort((a, b) => a - b).map((s) => msg(s)),
          50,
          true,
        );
        const expected = [...new Set([...frames, ...paged])].sort((a, b) => a - b);
        assert.deepEqual(seqs(t), expected);
      },
    ),
  );
});

test('frames for another room are ignored', () => {
  const t = new Timeline('r');
  assert.equal(t.applyFrame({ type: 'msg', ...msg(1), room: 'other' }), false);
  assert.deepEqual(seqs(t), []);
});

test('a send shows at once as pending, and after its ack as the stored message, once even if the msg came first', () => {
  const t = new Timeline('r');
  t.addPending({ ref: 'a', text: 'hello', author: 'ada' });
  assert.deepEqual(
    t.entries().map((e) => e.kind),
    ['pending'],
  );
  // The replay after a reconnect may deliver the message before the re-sent pub is acked.
  t.applyFrame({ type: 'msg', ...msg(7, 'hello'), author: 'ada' });
  t.acknowledge('a', 7);
  assert.deepEqual(
    t.entries().map((e) => (e.kind === 'message' ? e.message.seq : 'pending')),
    [7],
  );
  // Acked first, msg after: still once, and the frame's fields win.
  t.addPending({ ref: 'b', text: 'again', author: 'ada' });
  t.acknowledge('b', 8);
  t.applyFrame({ type: 'msg', ...msg(8, 'again'), author: 'ada', via: 'ws' });
  assert.deepEqual(seqs(t), [7, 8]);
  assert.equal(t.messages()[1]!.id, 'id8');
  assert.equal(t.pending().length, 0);
});

test('a failed send stays, with its error, until retried (same ref) or discarded', () => {
  const t = new Timeline('r');
  t.addPending({ ref: 'a', text: 'x', author: 'ada' });
  t.fail('a', 'Not connected.');
  assert.deepEqual(t.pending(), [
    { ref: 'a', text: 'x', author: 'ada', state: 'failed', error: 'Not connected.' },
  ]);
  assert.equal(t.retry('a')?.state, 'pending');
  assert.equal(t.pending()[0]!.error, undefined);
  t.discard('a');
  assert.deepEqual(t.entries(), []);
});

test('edits replace the text; a deletion leaves a tombstone that a late replayed msg cannot undo', () => {
  const t = new Timeline('r');
  t.addPage([msg(1), msg(2)], 50, true);
  t.applyFrame({ type: 'edit', ...msg(1, 'better'), editedAt: '2026-01-01T00:01:00.000Z' });
  assert.equal(t.messages()[0]!.text, 'better');
  assert.equal(t.applyFrame({ type: 'del', room: 'r', seq: 2 }), true);
  assert.equal(t.messages()[1]!.deleted, true);
  assert.equal(t.messages()[1]!.text, undefined);
  t.applyFrame({ type: 'msg', ...msg(2) });
  assert.equal(t.messages()[1]!.deleted, true, 'still deleted');
  assert.equal(t.applyFrame({ type: 'del', room: 'r', seq: 99 }), false, 'a del of a message not held');
});

test('an older copy does not undo an edit: a page read before it, or a msg replayed after it, arriving late', () => {
  const t = new Timeline('r');
  t.applyFrame({ type: 'msg', ...msg(1, 'draft') });
  t.applyFrame({ type: 'edit', ...msg(1, 'final'), editedAt: '2026-01-01T00:01:00.000Z' });
  t.addPage([msg(1, 'draft'), msg(2)], 50, true);
  assert.equal(t.messages()[0]!.text, 'final', 'the page was read before the edit');
  t.applyFrame({ type: 'msg', ...msg(1, 'draft') });
  assert.equal(t.messages()[0]!.text, 'final', 'a replayed msg');
  t.addPage([{ ...msg(1, 'later'), editedAt: '2026-01-01T00:02:00.000Z' }], 50, true);
  assert.equal(t.messages()[0]!.text, 'later', 'a later edit still wins, from a page too');
  const { text: _text, ...tombstone } = msg(2);
  t.addPage([{ ...tombstone, deleted: true }], 50, true);
  assert.equal(t.messages()[1]!.deleted, true, 'a page that shows a deletion wins over the copy held');
});

test('paging: oldest and newest bound what is held; a short older page means the start was reached', () => {
  const t = new Timeline('r');
  assert.equal(t.loaded, false);
  t.addPage([msg(51), msg(52)], 2, true);
  assert.equal(t.loaded, true);
  assert.equal(t.hasOlder, true, 'a full page: there may be more');
  assert.equal(t.oldest, 51);
  assert.equal(t.newest, 52);
  t.addPage([msg(50)], 2, true);
  assert.equal(t.hasOlder, false);
});
