// The chat's screen: on a terminal the status row and the prompt stay below every line printed;
// anywhere else, plain lines without a single escape code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatScreen } from '../../../src/cli/chat/chat-screen.js';

const recorder = (columns = 40) => {
  const writes: string[] = [];
  return { writes, out: { columns, write: (s: string) => writes.push(s) } };
};

test('off a terminal: each line as it is, and no status, prompt or escape code', () => {
  const { writes, out } = recorder();
  const screen = new ChatScreen(out, false);
  screen.label('[#lobby] ');
  screen.status('#lobby · 2 here');
  screen.prompt({ chars: [...'typing'], cursor: 6 });
  screen.print('#1 09:00 ada [ws] hi');
  screen.close();
  assert.deepEqual(writes, ['#1 09:00 ada [ws] hi\n']);
});

test('on a terminal: a printed line goes above the status row and the prompt, which are redrawn', () => {
  const { writes, out } = recorder();
  const screen = new ChatScreen(out, true);
  screen.label('> ');
  screen.status('status');
  screen.prompt({ chars: [...'abc'], cursor: 1 });
  writes.length = 0;
  screen.print('a message');
  assert.equal(writes.length, 1, 'one write per change: no flicker between erase and redraw');
  // Up to the status row, erase to the end, the line, then the status row and the prompt with
  // the cursor three cells in ("> a|bc").
  assert.equal(writes[0], '\u001b[1A\r\u001b[Ja message\r\nstatus\r\n> abc\r\u001b[3C');
  screen.close();
  assert.equal(writes.at(-1), '\u001b[1A\r\u001b[J', 'closing leaves no status row or prompt behind');
});

test('a line wider than the terminal scrolls sideways to keep the cursor in view', () => {
  const { writes, out } = recorder(20);
  const screen = new ChatScreen(out, true);
  screen.label('> ');
  const chars = [...'0123456789abcdefghijklmnopqrstuvwxyz'];
  screen.prompt({ chars, cursor: chars.length });
  const last = writes.at(-1)!;
  const prompt = last.split('\r\n')[1]!;
  const [shown, move] = prompt.split('\r');
  assert.ok(shown!.endsWith('z'), `the end of the line is in view: ${shown}`);
  assert.ok(shown!.length <= 19, 'never the last column: that would wrap');
  assert.equal(move, `\u001b[${shown!.length}C`, 'the cursor sits after the last character');
  screen.prompt({ chars, cursor: 0 });
  assert.ok(writes.at(-1)!.split('\r\n')[1]!.startsWith('> 0123'), 'and back to the start');
});

test('the status row never wraps: it is cut to the terminal width', () => {
  const { writes, out } = recorder(20);
  const screen = new ChatScreen(out, true);
  screen.status('x'.repeat(100));
  const status = writes.at(-1)!.split('\r\n')[0]!;
  assert.equal(status, `${'x'.repeat(18)}…`);
});
