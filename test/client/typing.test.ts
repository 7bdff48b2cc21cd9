// The typing line under the open room: who shows there, for how long, and how often our own
// keystrokes are told to the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as typing from '../../src/client/typing.js';

test('a typing notice shows for TYPING_SHOWN_MS after the last one, then goes', () => {
  const { TypingTracker, TYPING_SHOWN_MS } = typing;
  const t = new TypingTracker('ada');
  t.heard('lobby', 'bob', 1000);
  assert.deepEqual(t.who('lobby'), ['bob']);
  assert.equal(t.expire(1000 + TYPING_SHOWN_MS - 1), false, 'still within its time: nothing to redraw');
  assert.deepEqual(t.who('lobby'), ['bob']);
  t.heard('lobby', 'bob', 3000);
  assert.equal(t.expire(1000 + TYPING_SHOWN_MS), false, 'a later notice starts the time again');
  assert.equal(t.expire(3000 + TYPING_SHOWN_MS), true);
  assert.deepEqual(t.who('lobby'), []);
});

test("the typist's own notices, echoed back by the server, never show", () => {
  const t = new typing.TypingTracker('ada');
  t.heard('lobby', 'ada', 1000);
  assert.deepEqual(t.who('lobby'), []);
});

test('each room has its own typists; a message from one ends their notice at once', () => {
  const t = new typing.TypingTracker('ada');
  t.heard('lobby', 'bob', 1000);
  t.heard('lobby', 'cy', 1000);
  t.heard('dev', 'bob', 1000);
  t.posted('lobby', 'bob');
  assert.deepEqual(t.who('lobby'), ['cy']);
  assert.deepEqual(t.who('dev'), ['bob']);
  assert.deepEqual(t.who('elsewhere'), []);
});

test('we tell the server we are typing at most once per TYPING_SENT_EVERY_MS', () => {
  const { TypingTracker, TYPING_SENT_EVERY_MS } = typing;
  const t = new TypingTracker('ada');
  assert.equal(t.shouldSend(0), true, 'the first keystroke is told');
  assert.equal(t.shouldSend(TYPING_SENT_EVERY_MS - 1), false);
  assert.equal(t.shouldSend(TYPING_SENT_EVERY_MS), true);
  assert.equal(t.shouldSend(TYPING_SENT_EVERY_MS + 1), false, 'counted from the last one told');
});
