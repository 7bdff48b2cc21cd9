import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkText, codePointLength, isRoomName, isUserName } from '../../src/core/names.js';

test('room names are [a-z0-9][a-z0-9_-]{0,63}', () => {
  for (const ok of ['a', 'general', 'r2-d2', 'a_b', '0', 'x'.repeat(64)]) assert.ok(isRoomName(ok), ok);
  for (const bad of ['', '-a', '_a', 'A', 'a b', 'é', 'a/b', 'x'.repeat(65), 'a.b'])
    assert.ok(!isRoomName(bad), bad);
  assert.ok(!isRoomName(42));
});

test('user names use the same alphabet, up to 32', () => {
  assert.ok(isUserName('x'.repeat(32)));
  assert.ok(!isUserName('x'.repeat(33)));
  assert.ok(!isUserName('Ada'));
});

test('text length counts code points, not UTF-16 units', () => {
  assert.equal(codePointLength('abc'), 3);
  assert.equal(codePointLength('👋👋'), 2);
  assert.equal('👋👋'.length, 4);
  assert.equal(codePointLength('\ud800x'), 2, 'a lone surrogate counts as one');
});

test('checkText refuses too long, empty and malformed text', () => {
  assert.equal(checkText('👋'.repeat(4000), 4000), undefined, '4000 emoji are 4000 characters');
  assert.equal(checkText('a'.repeat(4001), 4000), 'text_too_long');
  assert.equal(checkText('   ', 4000), 'text_invalid');
  assert.equal(checkText('', 4000), 'text_invalid');
  assert.equal(checkText('bad \ud800 surrogate', 4000), 'text_invalid');
  assert.equal(checkText('line\nbreak', 4000), undefined);
});
