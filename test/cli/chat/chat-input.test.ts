// What a line typed in the chat asks for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHAT_COMMANDS, parseChatLine } from '../../../src/cli/chat/chat-input.js';

test('plain text is a message as typed; a blank line is nothing', () => {
  assert.deepEqual(parseChatLine('  hello there '), { kind: 'say', text: '  hello there ' });
  assert.deepEqual(parseChatLine('   '), { kind: 'none' });
});

test('/me is stored as "/me …", the way every door writes an action; //text sends a slash', () => {
  assert.deepEqual(parseChatLine('/me waves'), { kind: 'say', text: '/me waves' });
  assert.deepEqual(parseChatLine('//etc/hosts is a file'), { kind: 'say', text: '/etc/hosts is a file' });
  assert.equal(parseChatLine('/me').kind, 'mistake');
});

test('/join takes one valid room name (with or without #)', () => {
  assert.deepEqual(parseChatLine('/join #dev'), { kind: 'join', room: 'dev' });
  assert.deepEqual(parseChatLine('/JOIN dev'), { kind: 'join', room: 'dev' });
  assert.equal(parseChatLine('/join Bad Name').kind, 'mistake');
  assert.equal(parseChatLine('/join').kind, 'mistake');
});

test('/edit and /delete take a seq (#7 or 7); the rest map to their actions', () => {
  assert.deepEqual(parseChatLine('/edit #7 better words'), { kind: 'edit', seq: 7, text: 'better words' });
  assert.deepEqual(parseChatLine('/delete 3'), { kind: 'delete', seq: 3 });
  assert.equal(parseChatLine('/edit 0 x').kind, 'mistake');
  assert.equal(parseChatLine('/delete x').kind, 'mistake');
  for (const [line, kind] of [
    ['/part', 'part'],
    ['/who', 'who'],
    ['/older', 'older'],
    ['/quit', 'quit'],
    ['/help', 'help'],
  ])
    assert.equal(parseChatLine(line!).kind, kind);
});

test('an unknown command is a mistake that names it, never sent as a message', () => {
  const a = parseChatLine('/msg bob hi');
  assert.equal(a.kind, 'mistake');
  assert.match((a as { message: string }).message, /unknown command \/msg/);
});

test('/help lists every command the parser knows', () => {
  for (const [usage] of CHAT_COMMANDS) {
    const word = usage.split(' ')[0]!;
    if (word === '//TEXT') continue;
    const action = parseChatLine(word);
    assert.ok(!(action.kind === 'mistake' && /unknown/.test(action.message)), `${word} is known`);
  }
});
