// How the chat shows messages and notices, and how wide text is on a terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ANSI,
  PLAIN,
  cellWidth,
  fitWidth,
  messageLine,
  textWidth,
} from '../../../src/cli/chat/chat-lines.js';
import type { Message } from '../../../src/core/types.js';

const msg = (fields: Partial<Message> = {}): Message => ({
  room: 'lobby',
  seq: 7,
  id: 'm7',
  author: 'ada',
  text: 'hello',
  via: 'tcp',
  createdAt: new Date(2026, 0, 2, 9, 5).toISOString(),
  ...fields,
});
const ctx = { style: PLAIN, current: 'lobby' };

test('a message shows its seq, local time, author, door badge and text', () => {
  assert.equal(messageLine(msg(), ctx), '#7 09:05 ada [tcp] hello');
  assert.equal(messageLine(msg({ text: '/me waves' }), ctx), '#7 09:05 * ada waves [tcp]');
  assert.equal(messageLine(msg({ editedAt: msg().createdAt }), ctx), '#7 09:05 ada [tcp] hello (edited)');
  assert.equal(messageLine(msg({ deleted: true, text: undefined }), ctx), '#7 09:05 ada [tcp] (deleted)');
  assert.equal(messageLine(msg({ room: 'dev' }), ctx), '[#dev] #7 09:05 ada [tcp] hello');
});

test('nothing in a message can drive the terminal: escapes and line breaks are shown, not done', () => {
  const line = messageLine(msg({ text: 'a\u001b[2Jb\nc' }), ctx);
  assert.equal(line, '#7 09:05 ada [tcp] a\\u001b[2Jb\\nc');
});

test('wide characters take two cells, combining marks none, colour codes none', () => {
  assert.equal(cellWidth('a'), 1);
  assert.equal(cellWidth('界'), 2);
  assert.equal(cellWidth('🚢'), 2);
  assert.equal(cellWidth('\u0301'), 0);
  assert.equal(textWidth(ANSI.name('ada')), 3);
  assert.equal(textWidth('e\u0301世界'), 5);
});

test('fitWidth cuts to the cells given, ending in …, and never splits a wide character', () => {
  assert.equal(fitWidth('short', 10), 'short');
  assert.equal(fitWidth('abcdefghij', 5), 'abcd…');
  assert.equal(fitWidth('世界世界', 5), '世界…');
  const coloured = fitWidth(ANSI.bold('abcdefghij'), 5);
  assert.equal(textWidth(coloured), 5);
  assert.ok(coloured.endsWith('\u001b[0m'), 'a cut inside a colour resets it');
});
