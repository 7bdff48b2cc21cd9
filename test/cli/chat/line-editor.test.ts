// The chat prompt's editor, fed the bytes a terminal sends: keys, escape sequences cut between
// reads, pastes, and characters outside the Basic Multilingual Plane.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LineEditor } from '../../../src/cli/chat/line-editor.js';

const typed = (...chunks: string[]) => {
  const e = new LineEditor();
  const events = chunks.flatMap((c) => e.feed(c));
  return { e, events };
};

test('Enter submits the line and empties it; CR LF is one Enter', () => {
  const { e, events } = typed('hello\r\nworld\r');
  assert.deepEqual(
    events.filter((x) => x.type === 'submit'),
    [
      { type: 'submit', line: 'hello' },
      { type: 'submit', line: 'world' },
    ],
  );
  assert.equal(e.text, '');
});

test('arrows, Home, End and Delete edit in the middle of the line', () => {
  // "helo", Left, "l" → "hello"; Home, "¡" → "¡hello"; End, Backspace → "¡hell"; Home, Delete → "hell".
  const { e } = typed(
    'helo',
    '\u001b[D',
    'l',
    '\u001b[H',
    '¡',
    '\u001b[F',
    '\u007f',
    '\u001bOH',
    '\u001b[3~',
  );
  assert.equal(e.text, 'hell');
  assert.equal(e.cursor, 0);
});

test('an escape sequence split between two reads is still one key, not text', () => {
  const { e } = typed('ab', '\u001b', '[', 'D', 'X');
  // A lone ESC at the end of a read is the Escape key and is dropped; "[D" then arrive as text.
  assert.equal(e.text, 'ab[DX');
  const split = typed('ab', '\u001b[1;', '5D', 'X');
  assert.equal(split.e.text, 'Xab', 'Ctrl-Left moves a word back even when cut after its parameters');
});

test('Ctrl-U, Ctrl-K and Ctrl-W cut before the cursor, after it, and the word before it', () => {
  assert.equal(typed('one two three', '\u0017').e.text, 'one two ');
  assert.equal(typed('one two', '\u001b[D\u001b[D\u001b[D', '\u000b').e.text, 'one ');
  assert.equal(typed('one two', '\u001b[D\u001b[D\u001b[D', '\u0015').e.text, 'two');
});

test('Ctrl-C interrupts; Ctrl-D ends only on an empty line, and deletes otherwise', () => {
  assert.deepEqual(typed('x\u0003').events.at(-1), { type: 'interrupt' });
  assert.deepEqual(typed('\u0004').events, [{ type: 'eof' }]);
  const { e, events } = typed('ab\u0001\u0004');
  assert.equal(e.text, 'b');
  assert.ok(!events.some((x) => x.type === 'eof'));
});

test('Up and Down walk the lines sent before, and come back to the one being typed', () => {
  const { e } = typed('first\r', 'second\r', 'draft', '\u001b[A');
  assert.equal(e.text, 'second');
  e.feed('\u001b[A\u001b[A');
  assert.equal(e.text, 'first', 'the oldest line is as far as it goes');
  e.feed('\u001b[B\u001b[B');
  assert.equal(e.text, 'draft');
});

test('a bracketed paste keeps its line breaks out: one message, not one per line', () => {
  const { e, events } = typed('\u001b[200~line one\r\nline two\u001b[201~');
  assert.ok(!events.some((x) => x.type === 'submit'));
  assert.equal(e.text, 'line one  line two');
});

test('control characters and unbound keys never become text; emoji stay whole under the cursor', () => {
  const { e } = typed('a\u0007\u001b[15~\u001b[Zb🚢', '\u001b[D', '\u007f');
  assert.equal(e.text, 'a🚢', 'Backspace before the ship removes b, not half of the emoji');
  assert.equal(e.cursor, 1);
});

test('the line holds at most maxLength code points', () => {
  const e = new LineEditor({ maxLength: 5 });
  e.feed('abcdefgh');
  assert.equal(e.text, 'abcde');
});

test('whatever bytes arrive, the editor never throws and its cursor stays inside the line', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 20 }), (chunks) => {
      const e = new LineEditor({ maxLength: 64 });
      for (const c of chunks) e.feed(c);
      assert.ok(e.cursor >= 0 && e.cursor <= e.chars.length);
      assert.ok(e.chars.length <= 64);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may be text.
      assert.ok(!/[\u0000-\u001f\u007f]/.test(e.text));
    }),
    { numRuns: 500 },
  );
});
