// `porthouse chat` on a real terminal (tmux), as a person uses it: the prompt and a status row
// stay on the bottom rows while messages arrive above, half-typed text survives them, typing
// notices and presence show both ways, and Ctrl-C leaves the terminal as it was.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI } from '../../support/cli.js';
import { startServer, userApi } from '../../support/server.js';
import { openTerminal } from '../../support/terminal.js';
import { connectWs } from '../../support/ws.js';

const ROWS = 16;

for (const via of ['ws', 'tcp', 'sse+http'] as const)
  test(`over ${via}: the prompt stays at the bottom, typing and presence show, and Ctrl-C restores the terminal`, {
    timeout: 60_000,
  }, async (t) => {
    const server = await startServer(t, { presenceInterval: 50 });
    const ada = await userApi(server, 'ada');
    const bob = await userApi(server, 'bob');
    const cy = await userApi(server, 'cy');
    await bob.post('/v1/rooms', { name: 'lobby' });
    await bob.post('/v1/rooms/lobby/messages', { text: 'an old one' });
    const bobWs = await connectWs(server.url, { token: bob.token! });
    t.after(() => bobWs.close());
    bobWs.send({ type: 'sub', room: 'lobby' });
    await bobWs.next((f) => f.type === 'subbed');

    const config = mkdtempSync(join(tmpdir(), 'porthouse-chat-tty-'));
    const term = openTerminal(
      [
        `env XDG_CONFIG_HOME=${config} PORTHOUSE_SERVER=${server.url} PORTHOUSE_TOKEN=${ada.token} TZ=UTC`,
        `${process.execPath} ${CLI} chat lobby --via ${via} --tcp 127.0.0.1:${server.addresses().find((a) => a.door === 'tcp')!.port};`,
        // What is left once it ends: its exit code, and whether the terminal is back in cooked mode.
        `echo exited:$?; stty -a | grep -o -- '-\\?icanon'; sleep 60`,
      ].join(' '),
      { columns: 80, lines: ROWS, after: (fn) => t.after(fn) },
    );
    const bottom = (rows: string[]) => ({ status: rows.at(-2) ?? '', prompt: rows.at(-1) ?? '' });

    // From the start the prompt is the terminal's last row, the status row above it.
    let rows = await term.until('the prompt', (r) => r.length === ROWS && r.at(-1) === '[#lobby]');
    // Presence comes a moment after the subscription.
    rows = await term.until('the status row', (r) =>
      new RegExp(`^#lobby · 2 here: ada, bob · ${via.replace('+', '\\+')}$`).test(bottom(r).status),
    );
    assert.equal(bottom(rows).prompt, '[#lobby]');
    assert.ok(
      rows.some((r) => / bob \[http\] an old one$/.test(r)),
      'the history above',
    );

    // Half a line typed, then messages arrive: they go above, the half line stays in the prompt.
    term.type('half a thought');
    const typing = await bobWs.next((f) => f.type === 'typing');
    assert.deepEqual(typing, { type: 'typing', room: 'lobby', user: 'ada' }, 'her keystrokes tell the room');
    bobWs.send({ type: 'pub', room: 'lobby', text: 'bob speaks', ref: 'b1' });
    rows = await term.shows(/ bob \[ws\] bob speaks$/);
    assert.equal(bottom(rows).prompt, '[#lobby] half a thought');
    assert.match(rows.at(-3)!, / bob \[ws\] bob speaks$/, 'the newest message right above the status row');

    bobWs.send({ type: 'typing', room: 'lobby' });
    await term.until('bob typing', (r) => /bob is typing…/.test(bottom(r).status));

    const cyWs = await connectWs(server.url, { token: cy.token! });
    t.after(() => cyWs.close());
    await cy.put('/v1/rooms/lobby/members/cy');
    cyWs.send({ type: 'sub', room: 'lobby' });
    rows = await term.shows(/^-- cy is here$/);
    assert.match(bottom(rows).status, /3 here: ada, bob, cy/);
    assert.equal(bottom(rows).prompt, '[#lobby] half a thought');

    // Finish the line with an arrow-key edit, then Enter sends it.
    term.press('Home');
    term.type('just ');
    term.press('Enter');
    const sent = await bobWs.next((f) => f.type === 'msg' && f.author === 'ada');
    assert.equal(sent.text, 'just half a thought');
    rows = await term.shows(
      new RegExp(` ada \\[${via === 'sse+http' ? 'http' : via}\\] just half a thought$`),
    );
    assert.equal(bottom(rows).prompt, '[#lobby]', 'sent: the prompt is empty again');

    term.press('C-c');
    // The exit code, then the terminal's mode as stty reads it (-icanon if left raw).
    rows = await term.until('the exit code and the terminal mode', (r) => {
      const at = r.indexOf('exited:0');
      return at >= 0 && /^-?icanon$/.test(r[at + 1] ?? '');
    });
    const after = rows.slice(rows.indexOf('exited:0'));
    assert.deepEqual(
      after.slice(0, 2),
      ['exited:0', 'icanon'],
      'exit 0, and the terminal back in cooked mode',
    );
    assert.ok(
      !rows.some((x) => x.startsWith('[#lobby]') || / · ws$/.test(x)),
      'no prompt or status row left behind',
    );
    // Leaving is seen by the others: her presence goes.
    await bobWs.next((f) => f.type === 'presence' && !f.online.includes('ada'));
  });
