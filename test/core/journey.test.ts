// The journey log keeps the newest journeys of the newest rooms and nothing more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Journey, JourneyLog, journeyView } from '../../src/core/journey.js';

const journey = (room: string, seq: number) => {
  const j = new Journey(room, { door: 'tcp', wireBytes: 10, framing: 'a line', receivedAt: 1000 });
  j.seq = seq;
  return j;
};

test('keeps perRoom journeys per room and the rooms most recently written, dropping the oldest', () => {
  const log = new JourneyLog({ perRoom: 2, rooms: 2 });
  for (const seq of [1, 2, 3]) log.keep(journey('a', seq));
  assert.deepEqual([log.get('a', 1), log.get('a', 2)?.seq, log.get('a', 3)?.seq], [undefined, 2, 3]);
  log.keep(journey('b', 1));
  log.keep(journey('a', 4));
  log.keep(journey('c', 1));
  assert.equal(log.get('b', 1), undefined, 'b was written least recently');
  assert.equal(log.get('a', 4)?.seq, 4);
  assert.equal(log.size, 3);
  assert.equal(new JourneyLog({ perRoom: 0, rooms: 10 }).remote('a', 1), undefined, 'off: nothing kept');
});

test('a view: stages in order with ms after receipt, fan-out per door', () => {
  const j = journey('a', 7);
  j.mark('decoded', 1000.5);
  j.committedAt = 1001;
  j.durableAt = 1001.75;
  j.stored(1002);
  j.mark('acked', 1002);
  j.mark('published', 1002.25);
  j.mark('published', 1009);
  const view = journeyView(j);
  assert.deepEqual(
    view.stages.map((s) => [s.stage, s.ms]),
    [
      ['received', 0],
      ['decoded', 0.5],
      ['stored', 1],
      ['durable', 1.75],
      ['acked', 2],
      ['published', 2.25],
    ],
    'the first time of a stage counts',
  );
  assert.deepEqual([view.door, view.wireBytes, view.seq], ['tcp', 10, 7]);
});

test('a full ring reuses its slots: the kept journey is the slot, with the fan-out of its own message only', () => {
  const log = new JourneyLog({ perRoom: 2, rooms: 1 });
  const first = log.keep(journey('a', 1));
  first.queued('ws', 100, 1);
  first.queued('tcp', 90, 1);
  first.mark('acked', 1003);
  log.keep(journey('a', 2));
  const third = journey('a', 3);
  const kept = log.keep(third);
  assert.equal(kept, first, "seq 3 took seq 1's slot");
  assert.notEqual(kept, third);
  assert.equal(log.get('a', 1), undefined);
  assert.equal(log.get('a', 3), kept);
  assert.deepEqual(kept.fanout, [], 'no fan-out of the message before');
  assert.equal(kept.at('acked'), undefined, 'no stage of the message before');
  assert.equal(kept.at('received'), 1000);
  kept.queued('irc', 50, 2);
  assert.deepEqual(
    journeyView(kept).fanout.map((f) => [f.door, f.recipients, f.bytesPerRecipient]),
    [['irc', 1, 50]],
  );
  // A message that came over the bus takes a slot the same way, with no door.
  const remote = log.remote('a', 4)!;
  assert.equal(remote.seq, 4);
  assert.equal(journeyView(remote).door, null);
  assert.equal(log.get('a', 2), undefined);
});
