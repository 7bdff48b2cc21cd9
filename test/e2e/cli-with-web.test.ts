// A new user with nothing but the command line and a second one on the web client, against a
// fresh `porthouse serve`: register, log in, a private room, an invitation, an interactive chat
// in a real terminal (tmux) with the web user, paging back, edit and delete, log out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CLI, run, serve } from '../support/cli.js';
import { tempDir } from '../support/server.js';
import { openTerminal } from '../support/terminal.js';
import { browserMissing, launch, openPage, openRoom, pageErrors, register, send } from './browser.js';

const PASSWORD = 'correct horse battery';

describe('the command line and the web client in one room', { skip: browserMissing() }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launch();
  });
  after(() => browser?.close());

  test('register, a private room, invite, chat live with a web user, page back, edit, delete, log out', {
    timeout: 120_000,
  }, async (t) => {
    const dir = tempDir();
    const node = await serve(dir);
    t.after(async () => {
      node.proc.kill('SIGTERM');
      await node.exited;
      rmSync(dir, { recursive: true, force: true });
    });
    // ada: a terminal with her own config directory and nothing in the environment.
    const config = mkdtempSync(join(tmpdir(), 'porthouse-ada-'));
    const env = { XDG_CONFIG_HOME: config, PORTHOUSE_SERVER: '', PORTHOUSE_TOKEN: '', TZ: 'UTC' };
    const ada = (args: string[], input?: string) => run(args, input, env);
    const ok = async (args: string[], input?: string) => {
      const r = await ada(args, input);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };

    // bob signs up on the web client.
    const b = await openPage(browser, node.url);
    await register(b, 'bob');

    await ok(['register', 'ada', '--server', node.url], `${PASSWORD}\n`);
    await ok(['logout']);
    assert.match(await ok(['login', 'ada', '--server', node.url], PASSWORD), /signed in to .* as ada/);
    assert.equal(
      await ok(['room', 'create', 'plans', '--private', '--topic', 'the plan']),
      'created private room plans\n',
    );
    assert.equal(await ok(['invite', 'plans', 'bob']), 'bob is a member of plans\n');

    // The invitation reaches bob's page live; ada fills the room from a script (chat, line mode).
    await openRoom(b, 'plans');
    const lines = Array.from({ length: 30 }, (_, i) => `note ${i + 1}`).join('\n');
    assert.equal((await ada(['chat', 'plans'], `${lines}\n`)).code, 0);
    await b.locator('.messages [data-seq="30"]', { hasText: 'note 30' }).waitFor();

    // ada chats in a real terminal.
    const term = openTerminal(
      `env XDG_CONFIG_HOME=${config} TZ=UTC ${process.execPath} ${CLI} chat plans; echo exited:$?; sleep 60`,
      { columns: 100, lines: 24, after: (fn) => t.after(fn) },
    );
    const onScreen = (what: RegExp) => term.shows(what);
    await onScreen(/#30 \d\d:\d\d ada \[ws\] note 30/);
    await onScreen(/#plans · 2 here: ada, bob · ws/);

    await b.locator('#composer').pressSequentially('hello from the browser');
    await onScreen(/bob is typing…/);
    await b.locator('#composer').press('Enter');
    await onScreen(/#31 \d\d:\d\d bob \[ws\] hello from the browser/);
    term.type('hi bob, from a terminal');
    await b.locator('.typing', { hasText: 'ada is typing' }).waitFor();
    term.press('Enter');
    await b.locator('.messages [data-seq="32"]', { hasText: 'hi bob, from a terminal' }).waitFor();
    await send(b, '/me waves');
    await onScreen(/#33 \d\d:\d\d \* bob waves \[ws\]/);

    // Paging back, in the chat and with the history command and the Link it prints.
    term.type('/older');
    term.press('Enter');
    await onScreen(/-- older: #\d+–#\d+/);
    const latest = await ada(['history', 'plans', '--limit', '10']);
    assert.match(latest.stdout, /^#24 {2}.* ada \[ws\] {2}note 24$/m);
    // The way back goes to standard error, so standard output stays one message per line.
    const older = /^older: porthouse history plans --before (\d+) --limit 10$/m.exec(latest.stderr);
    assert.ok(older, latest.stderr);
    const back = await ok(['history', 'plans', '--before', older[1]!, '--limit', '10']);
    assert.match(back, /^#14 .* note 14$/m);
    assert.doesNotMatch(back, /note 24/);

    // Edit and delete from the command line: bob's page and ada's chat both follow.
    await ok(['edit', 'plans', '32', 'hi bob, from a terminal (edited)']);
    await b.locator('.messages [data-seq="32"] .edited').waitFor();
    await onScreen(/#32 edited by ada: hi bob, from a terminal \(edited\)/);
    await ok(['delete', 'plans', '1']);
    await b.locator('.messages [data-seq="1"] .deleted').waitFor({ state: 'attached' });
    await onScreen(/#1 deleted by ada/);
    const refused = await ada(['edit', 'plans', '31', 'not mine']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^porthouse: forbidden: /);

    term.type('/quit');
    term.press('Enter');
    await onScreen(/exited:0/);
    assert.equal(await ok(['logout']), `signed out of ${node.url}\n`);
    const out = await ada(['whoami']);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /not signed in/);
    assert.deepEqual(pageErrors(b), []);
  });
});
