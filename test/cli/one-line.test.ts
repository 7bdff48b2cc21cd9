// listen's text output: one line per message, and nothing in a message can drive the terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneLine } from '../../src/cli/one-line.js';

test('line breaks, backslashes and control characters (escape sequences) come out as JSON escapes', () => {
  assert.equal(oneLine('plain text, émoji 🚢'), 'plain text, émoji 🚢');
  assert.equal(oneLine('two\nlines\r\n'), 'two\\nlines\\r\\n');
  assert.equal(oneLine('a \\ b'), 'a \\\\ b');
  assert.equal(oneLine('\u001b[2J\u001b]0;owned\u0007'), '\\u001b[2J\\u001b]0;owned\\u0007');
  assert.equal(oneLine('tab\there, \u2028 and \u009b'), 'tab\\there, \\u2028 and \\u009b');
  for (const s of ['x\ny', '\u001b', 'a\u2029b'])
    assert.ok(![...oneLine(s)].some((c) => c.charCodeAt(0) < 0x20 || c === '\u2028' || c === '\u2029'));
});
