// The web client in a real Chromium against a real server: two people chatting live, every door's
// badge, a dropped connection that resumes with no gap or duplicate, history paging, untrusted
// text shown as text, keyboard-only use, the admin Network panel, and clear errors.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { run } from '../support/cli.js';
import { PASSWORD, type TestServer, startServer, tempDir, userApi } from '../support/server.js';
import { registerIrc } from '../support/irc.js';
import { signal } from '../support/signal.js';
import {
  PHONE,
  browserMissing,
  launch,
  openPage,
  openRoom,
  pageErrors,
  register,
  send,
  shownSeqs,
  signIn,
} from './browser.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Wait until `check` passes (retrying its assertion), or fail with its last error. */
async function eventually(check: () => Promise<void>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const texts = (page: Page) =>
  page.locator('.messages [data-seq] .text').evaluateAll((els) => els.map((el) => el.textContent));

describe('the web client in Chromium', { skip: browserMissing() }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launch();
  });
  after(() => browser?.close());

  test('two people chat live: presence, typing, pending then confirmed, each message once', async (t) => {
    const server = await startServer(t);
    const a = await openPage(browser, server.url);
    await register(a, 'ada');
    await a.getByRole('button', { name: 'New room' }).click();
    await a.getByLabel('Name', { exact: true }).fill('lobby');
    await a.getByRole('button', { name: 'Create' }).click();
    await a.locator('#room-title', { hasText: 'lobby' }).waitFor();

    const b = await openPage(browser, server.url);
    await register(b, 'bob');
    await openRoom(b, 'lobby');
    await b.getByRole('button', { name: 'Join' }).click();
    await b.locator('#composer').waitFor();
    await a.locator('.presence', { hasText: '2 online: ada, bob' }).waitFor();

    await b.locator('#composer').pressSequentially('hi a');
    await a.locator('.typing', { hasText: 'bob is typing' }).waitFor();
    await b.locator('#composer').press('Enter');
    await a.locator('.messages [data-seq="1"]', { hasText: 'hi a' }).waitFor();
    assert.equal(await a.locator('[data-seq="1"] .via').textContent(), 'WebSocket');
    await send(a, 'hello bob');
    await b.locator('.messages [data-seq="2"]', { hasText: 'hello bob' }).waitFor();
    for (const page of [a, b]) {
      await eventually(async () => assert.deepEqual(await shownSeqs(page), [1, 2]));
      assert.equal(await page.locator('[data-pending]').count(), 0, 'no send left pending');
    }

    // Unread counts: ada looks at another room while bob writes in lobby.
    await a.getByRole('button', { name: 'New room' }).click();
    await a.getByLabel('Name', { exact: true }).fill('side');
    await a.getByRole('button', { name: 'Create' }).click();
    await a.locator('#room-title', { hasText: 'side' }).waitFor();
    await send(b, 'one');
    await send(b, 'two');
    await a.locator('[data-room="lobby"] .unread', { hasText: '2' }).waitFor();
    await openRoom(a, 'lobby');
    await eventually(async () => assert.equal(await a.locator('[data-room="lobby"] .unread').count(), 0));
    assert.deepEqual(pageErrors(a), []);
    assert.deepEqual(pageErrors(b), []);
  });

  test('a message from any door shows with its badge: REST, TCP, UDP (porthouse send --via udp), IRC', async (t) => {
    const server = await startServer(t);
    const ada = await userApi(server, 'ada');
    await ada.post('/v1/rooms', { name: 'doors' });
    const page = await openPage(browser, server.url);
    await signIn(page, 'ada');
    await openRoom(page, 'doors');
    const port = (door: string) => server.addresses().find((d) => d.door === door)!.port;
    const env = { PORTHOUSE_TOKEN: ada.token! };
    await ada.post('/v1/rooms/doors/messages', { text: 'by rest' });
    for (const [via, flag] of [
      ['tcp', '--tcp'],
      ['udp', '--udp'],
    ] as const) {
      const sent = await run(
        ['send', 'doors', `by ${via}`, '--via', via, flag, `127.0.0.1:${port(via)}`, '--server', server.url],
        undefined,
        env,
      );
      assert.equal(sent.code, 0, sent.stderr);
    }
    const irc = await registerIrc(server, 'ada', PASSWORD);
    t.after(() => irc.socket.destroy());
    irc.send('JOIN #doors');
    await irc.expect('366');
    irc.send('PRIVMSG #doors :by irc');
    await page.locator('.messages [data-seq="4"]').waitFor();
    const badges = await page
      .locator('.messages [data-seq]')
      .evaluateAll((els) =>
        els.map((el) => [el.querySelector('.text')?.textContent, el.querySelector('.via')?.textContent]),
      );
    assert.deepEqual(badges, [
      ['by rest', 'REST'],
      ['by tcp', 'TCP'],
      ['by udp', 'UDP'],
      ['by irc', 'IRC'],
    ]);

    // A badge opens the message's journey: its door, bytes on the wire, stages and fan-out.
    const badge = page.locator('.messages [data-seq="2"] .via');
    await badge.click();
    assert.equal(await badge.getAttribute('aria-expanded'), 'true');
    const journey = page.getByRole('region', { name: 'Journey of message 2' });
    await journey.locator('[data-stage="durable"]').waitFor();
    assert.match(
      (await journey.textContent()) ?? '',
      /Received by the tcp door: \d+ bytes on the wire \(one JSON line/,
    );
    assert.deepEqual(
      await journey
        .locator('[data-stage]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-stage'))),
      ['received', 'decoded', 'stored', 'durable', 'acked', 'published'],
    );
    await journey.locator('[data-fanout="ws"]', { hasText: '1 recipient' }).waitFor();
    await badge.press('Enter');
    await journey.waitFor({ state: 'detached' });
  });

  test('a server restart: "reconnecting" shows, a send made meanwhile is kept, then no gap and no duplicate', async (t) => {
    const dataDir = tempDir();
    let server: TestServer = await startServer(undefined, { data: dataDir });
    t.after(async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const bob = await userApi(server, 'bob');
    await userApi(server, 'ada');
    await bob.post('/v1/rooms', { name: 'r' });
    await bob.put('/v1/rooms/r/members/ada');
    const page = await openPage(browser, server.url);
    await signIn(page, 'ada');
    await openRoom(page, 'r');
    for (const i of range(1, 5)) await bob.post('/v1/rooms/r/messages', { text: `before ${i}` });
    await eventually(async () => assert.deepEqual(await shownSeqs(page), range(1, 5)));

    const port = new URL(server.url).port;
    await server.stop();
    await page.locator('[data-status="reconnecting"]').waitFor();
    await send(page, 'sent while down');
    await page.locator('[data-pending]', { hasText: 'sent while down' }).waitFor();

    server = await startServer(undefined, { data: dataDir, port: Number(port) });
    const bob2 = server.api.as(bob.token);
    for (const i of range(6, 10)) await bob2.post('/v1/rooms/r/messages', { text: `after ${i}` });
    await page.locator('[data-status="ready"]').waitFor({ timeout: 20_000 });
    await eventually(async () => assert.deepEqual(await shownSeqs(page), range(1, 11)), 15_000);
    assert.equal(await page.locator('[data-pending]').count(), 0);
    const shown = await texts(page);
    assert.equal(shown.filter((x) => x === 'sent while down').length, 1, 'the pending send shows once');
    const history = (await bob2.get('/v1/rooms/r/messages')).body as { seq: number; text: string }[];
    assert.deepEqual(
      history.map((m) => m.text),
      shown,
      'the page shows exactly the history',
    );
    assert.equal(history.filter((m) => m.text === 'sent while down').length, 1, 'stored once');
  });

  test('history pages upward as you scroll, each message once, down to the first', async (t) => {
    const server = await startServer(t);
    const bob = await userApi(server, 'bob');
    await userApi(server, 'ada');
    await bob.post('/v1/rooms', { name: 'long' });
    for (const i of range(1, 130)) await bob.post('/v1/rooms/long/messages', { text: `line ${i}` });
    const page = await openPage(browser, server.url);
    await signIn(page, 'ada');
    await openRoom(page, 'long');
    await eventually(async () => assert.deepEqual(await shownSeqs(page), range(81, 130)));
    await eventually(async () => {
      await page.locator('.messages').evaluate((el) => {
        el.scrollTop = 0;
      });
      assert.equal((await shownSeqs(page))[0], 1);
    }, 15_000);
    assert.deepEqual(await shownSeqs(page), range(1, 130));
    await page.locator('.messages .start', { hasText: 'The beginning of #long' }).waitFor();
  });

  test('an older page keeps the view still, even when other updates are drawn while it is on its way', async (t) => {
    const server = await startServer(t);
    const bob = await userApi(server, 'bob');
    await userApi(server, 'ada');
    await bob.post('/v1/rooms', { name: 'long' });
    await bob.post('/v1/rooms', { name: 'other' });
    await bob.put('/v1/rooms/other/members/ada');
    for (const i of range(1, 130)) await bob.post('/v1/rooms/long/messages', { text: `line ${i}` });
    const page = await openPage(browser, server.url);
    await signIn(page, 'ada');
    await openRoom(page, 'long');
    await eventually(async () => assert.deepEqual(await shownSeqs(page), range(81, 130)));

    const older = await holdRequest(page, 'GET', /\/v1\/rooms\/long\/messages\?.*before=81/);
    await page.locator('.messages').evaluate((el) => {
      el.scrollTop = 0;
    });
    await older.held;
    const top = async () => (await page.locator('.messages [data-seq="81"]').boundingBox())!.y;
    const before = await top();
    // Something else is drawn meanwhile: a message in another room.
    await bob.post('/v1/rooms/other/messages', { text: 'meanwhile' });
    await page.locator('[data-room="other"] .unread', { hasText: '1' }).waitFor();
    older.release();
    await page.locator('.messages [data-seq="31"]').waitFor({ state: 'attached' });
    await eventually(async () => assert.equal((await shownSeqs(page))[0], 31));
    assert.ok(
      Math.abs((await top()) - before) < 2,
      `line 81 stayed where it was: ${before} → ${await top()}`,
    );
  });

  test('message text is shown as text: HTML in a message runs nothing and renders verbatim', async (t) => {
    const server = await startServer(t);
    const ada = await userApi(server, 'ada');
    await ada.post('/v1/rooms', { name: 'x' });
    const payloads = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script><b>bold?</b>'];
    for (const text of payloads) await ada.post('/v1/rooms/x/messages', { text });
    const page = await openPage(browser, server.url);
    await signIn(page, 'ada');
    await openRoom(page, 'x');
    await send(page, '<svg onload=alert(3)>');
    await page.locator('.messages [data-seq="3"]').waitFor();
    assert.deepEqual(await texts(page), [...payloads, '<svg onload=alert(3)>']);
    assert.equal(
      await page.locator('.messages img, .messages script, .messages svg, .messages b').count(),
      0,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(pageErrors(page), [], 'no alert, no script error');
  });

  test('keyboard alone: tab to a room, open it, write and send with Enter', async (t) => {
    const server = await startServer(t);
    const ada = await userApi(server, 'ada');
    await ada.post('/v1/rooms', { name: 'keys' });
    const page = await openPage(browser, server.url);
    await signIn(page, 'ada');
    const focused = () =>
      // A string: this runs in the page, where `document` is (the test's TypeScript has no DOM).
      page.evaluate<string | undefined>(
        "document.activeElement?.getAttribute('data-room') ?? document.activeElement?.id",
      );
    const tabTo = async (target: string) => {
      for (let i = 0; i < 40 && (await focused()) !== target; i++) await page.keyboard.press('Tab');
      assert.equal(await focused(), target, `Tab reaches ${target}`);
    };
    await tabTo('keys');
    await page.keyboard.press('Enter');
    await page.locator('#room-title', { hasText: 'keys' }).waitFor();
    await tabTo('composer');
    await page.keyboard.type('typed without a mouse');
    await page.keyboard.press('Enter');
    await page.locator('.messages [data-seq="1"]', { hasText: 'typed without a mouse' }).waitFor();
    assert.equal(await page.locator('#composer').inputValue(), '', 'the composer is cleared');
  });

  test('private rooms: create, invite (the invitee sees it at once), edit the topic, live edits and deletions, leave', async (t) => {
    const server = await startServer(t);
    await userApi(server, 'ada');
    await userApi(server, 'bob');
    const a = await openPage(browser, server.url);
    await signIn(a, 'ada');
    const b = await openPage(browser, server.url);
    await signIn(b, 'bob');
    await a.getByRole('button', { name: 'New room' }).click();
    await a.getByLabel('Name', { exact: true }).fill('secret');
    await a.getByLabel('Private').check();
    await a.getByRole('button', { name: 'Create' }).click();
    await a.getByRole('button', { name: 'Room info' }).click();
    await a.getByLabel('User name').fill('bob');
    await a.getByRole('button', { name: 'Invite' }).click();
    await b.locator('.sidebar [data-room="secret"]').waitFor({ timeout: 5000 });
    await a.getByLabel('Topic').fill('plans');
    await a.getByRole('button', { name: 'Save' }).click();
    await openRoom(b, 'secret');
    await b.locator('.topic', { hasText: 'plans' }).waitFor();
    await send(a, 'first draft');
    await b.locator('[data-seq="1"]', { hasText: 'first draft' }).waitFor();
    await a.getByRole('button', { name: 'Edit message 1' }).click();
    await a.getByLabel('Edit message 1').fill('final text');
    await a.getByLabel('Edit message 1').press('Enter');
    await b.locator('[data-seq="1"]', { hasText: 'final text' }).waitFor();
    await b.locator('[data-seq="1"] .edited').waitFor();
    await a.getByRole('button', { name: 'Delete message 1' }).click();
    await b.locator('[data-seq="1"] .deleted').waitFor();
    assert.equal(await b.getByRole('button', { name: 'Edit message 1' }).count(), 0, "not bob's to edit");
    await b.getByRole('button', { name: 'Room info' }).click();
    await b.getByRole('button', { name: 'Leave room' }).click();
    await eventually(async () => assert.equal(await b.locator('.sidebar [data-room="secret"]').count(), 0));
    // ada's room panel is still open from the invite, and follows the leave live.
    await eventually(async () => assert.equal(await a.locator('.members li', { hasText: 'bob' }).count(), 0));
  });

  test('what someone is typing in an edit box survives live updates redrawing the page', async (t) => {
    const server = await startServer(t);
    const adaElsewhere = await userApi(server, 'ada');
    const bob = await userApi(server, 'bob');
    const a = await openPage(browser, server.url);
    await signIn(a, 'ada');
    await a.getByRole('button', { name: 'New room' }).click();
    await a.getByLabel('Name', { exact: true }).fill('drafts');
    await a.getByRole('button', { name: 'Create' }).click();
    await a.locator('#room-title', { hasText: 'drafts' }).waitFor();
    assert.equal((await bob.put('/v1/rooms/drafts/members/bob')).status, 201);
    await send(a, 'first draft');
    await a.locator('.messages [data-seq="1"]:not([data-pending])', { hasText: 'first draft' }).waitFor();
    let said = 0;
    /** bob writes, and ada's page redraws with his message while her edit is half done. */
    const interrupt = async () => {
      said++;
      assert.equal(
        (await bob.post('/v1/rooms/drafts/messages', { text: `interruption ${said}` })).status,
        201,
      );
      await a.locator('.messages [data-seq]', { hasText: `interruption ${said}` }).waitFor();
    };

    await a.getByRole('button', { name: 'Edit message 1' }).click();
    await a.getByLabel('Edit message 1').fill('final text');
    await interrupt();
    await a.getByLabel('Edit message 1').press('Enter');
    await a.locator('.messages [data-seq="1"]', { hasText: 'final text' }).waitFor();

    await a.getByRole('button', { name: 'Room info' }).click();
    await a.getByLabel('Topic').fill('plans');
    await interrupt();
    // The save is held on its way to the server while ada starts on the title: what she types
    // then is hers, not undone when the save lands.
    const saving = await holdRequest(a, 'PATCH', /\/v1\/rooms\/drafts$/);
    await a.getByRole('button', { name: 'Save' }).click();
    await saving.held;
    await a.getByLabel('Title').fill('Drafts, renamed');
    saving.release();
    await eventually(async () =>
      assert.equal((await bob.get('/v1/rooms/drafts')).body.topic, 'plans', 'the topic ada typed is saved'),
    );

    // Saving sends only what was changed in the form: ada's other session changes the topic,
    // the saved topic field follows it, and her Save of the title does not put the old topic back.
    assert.equal((await adaElsewhere.patch('/v1/rooms/drafts', { topic: 'set from her phone' })).status, 200);
    await a.locator('.topic', { hasText: 'set from her phone' }).waitFor();
    await eventually(async () =>
      assert.equal(await a.getByLabel('Topic').inputValue(), 'set from her phone'),
    );
    assert.equal(await a.getByLabel('Title').inputValue(), 'Drafts, renamed', 'typed during the save, kept');
    await a.getByRole('button', { name: 'Save' }).click();
    await eventually(async () => {
      const room = (await bob.get('/v1/rooms/drafts')).body;
      assert.deepEqual([room.title, room.topic], ['Drafts, renamed', 'set from her phone']);
    });
  });

  test('what is done while a request is on its way is kept: the next invitee, more edits, a draft in another room, the unread count of a room left before it loaded, the room opened while another is created, a member who joined after an older list was read', async (t) => {
    const server = await startServer(t);
    const ada = await userApi(server, 'ada');
    const bob = await userApi(server, 'bob');
    await userApi(server, 'carol');
    await ada.post('/v1/rooms', { name: 'work' });
    await ada.post('/v1/rooms', { name: 'quiet' });
    await ada.post('/v1/rooms/work/messages', { text: 'first' });
    await bob.post('/v1/rooms', { name: 'busy' });
    await ada.put('/v1/rooms/busy/members/ada');
    await bob.post('/v1/rooms/busy/messages', { text: 'one' });
    await bob.post('/v1/rooms/busy/messages', { text: 'two' });
    const a = await openPage(browser, server.url);
    await signIn(a, 'ada');
    await openRoom(a, 'work');
    await a.locator('.messages [data-seq="1"]', { hasText: 'first' }).waitFor();

    // The next name is typed while the first invite is on its way: it is not wiped.
    await a.getByRole('button', { name: 'Room info' }).click();
    const inviting = await holdRequest(a, 'PUT', /\/v1\/rooms\/work\/members\/bob$/);
    await a.getByLabel('User name').fill('bob');
    await a.getByRole('button', { name: 'Invite' }).click();
    await inviting.held;
    await a.getByLabel('User name').fill('carol');
    inviting.release();
    await a.locator('.members li', { hasText: 'bob' }).waitFor();
    assert.equal(await a.getByLabel('User name').inputValue(), 'carol');
    await a.getByRole('button', { name: 'Close' }).click();

    // More is typed into an edit while its save is on its way: the editor stays open with it.
    const saving = await holdRequest(a, 'PATCH', /\/v1\/rooms\/work\/messages\/1$/);
    await a.getByRole('button', { name: 'Edit message 1' }).click();
    await a.getByLabel('Edit message 1').fill('second');
    await a.getByLabel('Edit message 1').press('Enter');
    await saving.held;
    await a.getByLabel('Edit message 1').fill('third');
    saving.release();
    await eventually(async () =>
      assert.equal((await ada.get('/v1/rooms/work/messages/1')).body.text, 'second'),
    );
    assert.equal(
      await a.getByLabel('Edit message 1').inputValue(),
      'third',
      'still open, with what came after',
    );
    await a.getByLabel('Edit message 1').press('Enter');
    await a.locator('.messages [data-seq="1"] .text', { hasText: 'third' }).waitFor();

    // A draft stays with its room.
    await a.locator('#composer').fill('half a thought');
    await openRoom(a, 'quiet');
    assert.equal(await a.locator('#composer').inputValue(), '', "not carried into another room's composer");
    await openRoom(a, 'work');
    assert.equal(await a.locator('#composer').inputValue(), 'half a thought');

    // A room whose history is still on its way when another is opened was not seen: still unread.
    await a.locator('[data-room="busy"] .unread', { hasText: '2' }).waitFor();
    const loading = await holdRequest(a, 'GET', /\/v1\/rooms\/busy\/messages\?/);
    await a.locator('.sidebar [data-room="busy"]').click();
    await loading.held;
    await openRoom(a, 'quiet');
    const landed = a.waitForResponse(/\/v1\/rooms\/busy\/messages\?/);
    loading.release();
    await landed;
    await stays(async () =>
      assert.equal(
        await a.locator('[data-room="busy"] .unread', { hasText: '2' }).count(),
        1,
        'still unread',
      ),
    );

    // A room still being created when another is opened does not pull its creator away.
    const creating = await holdRequest(a, 'POST', /\/v1\/rooms$/);
    await a.getByRole('button', { name: 'New room' }).click();
    await a.getByLabel('Name', { exact: true }).fill('later');
    await a.getByRole('button', { name: 'Create' }).click();
    await creating.held;
    await openRoom(a, 'work');
    creating.release();
    await a.locator('.sidebar [data-room="later"]').waitFor();
    await stays(async () => assert.equal(await a.locator('#room-title').textContent(), '# work'));

    // An older member list answering after a newer one does not take a member away.
    const members = await holdRequest(a, 'GET', /\/v1\/rooms\/quiet\/members$/, 'answer');
    await openRoom(a, 'quiet');
    await members.held; // read before bob joined
    await a.getByRole('button', { name: 'Room info' }).click();
    assert.equal((await bob.put('/v1/rooms/quiet/members/bob')).status, 201);
    await a.locator('.members li', { hasText: 'bob' }).waitFor();
    const stale = a.waitForResponse(/\/v1\/rooms\/quiet\/members$/);
    members.release();
    await stale;
    await stays(async () => assert.equal(await a.locator('.members li', { hasText: 'bob' }).count(), 1));
    assert.deepEqual(pageErrors(a), []);
  });

  test('nothing done while a subscription is on its way is lost: a topic set before it lands, an edit made while reconnecting', async (t) => {
    const server = await startServer(t);
    const ada = await userApi(server, 'ada');
    await userApi(server, 'bob');
    // bob's `sub` frames are held back while `holding`, as a slow network or a busy server would.
    let holding = false;
    const held: (() => void)[] = [];
    let dropBob: (() => Promise<void>) | undefined;
    const b = await openPage(browser, server.url);
    await b.routeWebSocket(/\/v1\/ws$/, (page) => {
      const toServer = page.connectToServer();
      page.onMessage((m) => {
        if (holding && typeof m === 'string' && m.includes('"type":"sub"')) held.push(() => toServer.send(m));
        else toServer.send(m);
      });
      dropBob = async () => {
        await toServer.close();
        await page.close({ code: 1012, reason: 'test drop' });
      };
    });
    const done = (res: { status: number; body: unknown }) =>
      assert.ok(res.status < 300, `ada's request: ${res.status} ${JSON.stringify(res.body)}`);
    const release = () => {
      holding = false;
      for (const send of held.splice(0)) send();
    };
    await signIn(b, 'bob');

    holding = true;
    done(await ada.post('/v1/rooms', { name: 'plans-room', private: true }));
    done(await ada.put('/v1/rooms/plans-room/members/bob'));
    await b.locator('.sidebar [data-room="plans-room"]').waitFor();
    done(await ada.patch('/v1/rooms/plans-room', { topic: 'set before the sub landed' }));
    done(await ada.post('/v1/rooms/plans-room/messages', { text: 'draft' }));
    done(await ada.post('/v1/rooms/plans-room/messages', { text: 'doomed' }));
    release();
    await openRoom(b, 'plans-room');
    // Well under the client's 20 s room-list poll, which would otherwise hide a missed update.
    const soon = { timeout: 10_000 };
    await b.locator('.topic', { hasText: 'set before the sub landed' }).waitFor(soon);
    await b.locator('[data-seq="2"]', { hasText: 'doomed' }).waitFor(soon);

    holding = true;
    await dropBob!();
    await b.locator('[data-status="ready"]').waitFor();
    await eventually(async () => assert.ok(held.length > 0, "bob's resubscription is held"));
    done(await ada.patch('/v1/rooms/plans-room/messages/1', { text: 'edited while bob was away' }));
    done(await ada.delete('/v1/rooms/plans-room/messages/2'));
    done(await ada.post('/v1/rooms/plans-room/messages', { text: 'sent while bob was away' }));
    done(await ada.patch('/v1/rooms/plans-room', { topic: 'changed while bob was away' }));
    release();
    await b.locator('[data-seq="3"]', { hasText: 'sent while bob was away' }).waitFor(soon);
    await b.locator('[data-seq="1"]', { hasText: 'edited while bob was away' }).waitFor(soon);
    await b.locator('[data-seq="2"] .deleted').waitFor(soon);
    await b.locator('.topic', { hasText: 'changed while bob was away' }).waitFor(soon);
    assert.deepEqual(pageErrors(b), []);
  });

  test("admins see every door's live sockets as five-tuples in the Network panel, refreshing; the panel goes when the right is taken away", async (t) => {
    const server = await startServer(t);
    const root = await userApi(server, 'root', { admin: true });
    const boss = await userApi(server, 'boss', { admin: true });
    const page = await openPage(browser, server.url);
    await signIn(page, 'root');
    await page.getByRole('button', { name: 'Network' }).click();
    await page.locator('.network tr[data-door="ws"]').first().waitFor();
    assert.ok((await page.locator('.network tr[data-door="http"]').count()) >= 1, 'the HTTP listener');
    const tcpPort = server.addresses().find((d) => d.door === 'tcp')!.port;
    const sock = connect(tcpPort, '127.0.0.1');
    t.after(() => sock.destroy());
    sock.write(`${JSON.stringify({ type: 'auth', token: root.token })}\n`);
    await page.locator('.network tr[data-door="tcp"]', { hasText: 'root' }).waitFor({ timeout: 6000 });

    // One poll at a time: while one is unanswered, no other starts, so no slow answer can land
    // after, and overwrite, a newer one.
    let polls = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/sockets')) polls++;
    });
    const slow = await holdRequest(page, 'GET', /\/v1\/sockets$/);
    await slow.held;
    const held = polls;
    await new Promise((r) => setTimeout(r, 2500)); // past the 2 s refresh
    assert.equal(polls, held, 'no poll while one is on its way');
    slow.release();
    await eventually(async () => assert.ok(polls > held, 'polling goes on once it is answered'));

    assert.equal((await boss.patch('/v1/users/root', { admin: false })).status, 200);
    // The page's WebSocket closes with rights_changed, reconnects, and its `ready` says no admin.
    await page.getByRole('button', { name: 'Network' }).waitFor({ state: 'detached' });
    assert.equal(await page.locator('.network').count(), 0, 'the panel is gone too');
  });

  test("the Network panel shows each socket's RTT, cwnd and queues, sorts by a column, and marks a reader that stopped", async (t) => {
    const server = await startServer(t, { kernelStateTtl: 0, sendBufferLimit: 256 * 1024 * 1024 });
    const root = await userApi(server, 'root', { admin: true });
    await root.post('/v1/rooms', { name: 'flood' });
    const page = await openPage(browser, server.url);
    await signIn(page, 'root');
    await page.getByRole('button', { name: 'Network' }).click();
    const tcpPort = server.addresses().find((d) => d.door === 'tcp')!.port;
    const sock = connect(tcpPort, '127.0.0.1');
    t.after(() => sock.destroy());
    sock.write(
      `${JSON.stringify({ type: 'auth', token: root.token })}\n${JSON.stringify({ type: 'sub', room: 'flood' })}\n`,
    );
    const row = page.locator('.network tr[data-door="tcp"]', { hasText: 'root' });
    await row.waitFor({ timeout: 6000 });
    assert.match(
      (await row.locator('[data-cell="rtt"]').textContent()) ?? '',
      /^\d+(\.\d+)? ± \d/,
      'RTT ± variance',
    );

    // Sorted by RTT, twice: ascending then descending, announced with aria-sort.
    const header = page.locator('.network th', { has: page.locator('[data-column="rtt"]') });
    await page.locator('[data-column="rtt"]').click();
    assert.equal(await header.getAttribute('aria-sort'), 'ascending');
    await page.locator('[data-column="rtt"]').click();
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    const rtts = await page.locator('.network tbody [data-cell="rtt"]').evaluateAll((cells) =>
      cells
        .map((c) => c.textContent ?? '')
        .filter(Boolean)
        .map((t) => Number(t.split(' ')[0])),
    );
    assert.deepEqual(
      rtts,
      [...rtts].sort((a, b) => b - a),
    );

    // The TCP client stops reading while messages keep coming: its send queue grows poll after poll.
    sock.pause();
    const actor = { name: 'root', admin: true };
    let flooding = true;
    const flood = (async () => {
      for (let i = 0; flooding && i < 20_000; i++) {
        await server.services.messages.post(actor, 'flood', `${i} ${'x'.repeat(3000)}`, 'http');
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await page
      .locator('.network tr.growing[data-door="tcp"]', { hasText: 'growing' })
      .waitFor({ timeout: 20_000 });
    flooding = false;
    await flood;
    assert.deepEqual(pageErrors(page), []);
  });

  test('errors are said plainly: wrong password, a taken room name, a server that is gone', async (t) => {
    const server = await startServer(t);
    const ada = await userApi(server, 'ada');
    await ada.post('/v1/rooms', { name: 'taken' });
    const page = await openPage(browser, server.url);
    await page.getByLabel('Name').fill('ada');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong name or password.' }).waitFor();
    await signIn(page, 'ada');
    await page.getByRole('button', { name: 'New room' }).click();
    await page.getByLabel('Name', { exact: true }).fill('taken');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('alert').filter({ hasText: 'That room name is taken.' }).waitFor();
    await server.stop();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('alert').filter({ hasText: 'The server is unreachable' }).waitFor();
    await page.locator('[data-status="reconnecting"]').waitFor();
  });

  test('a phone-width window folds the room list behind a button', async (t) => {
    const server = await startServer(t);
    const ada = await userApi(server, 'ada');
    await ada.post('/v1/rooms', { name: 'small' });
    const page = await openPage(browser, server.url, PHONE);
    await signIn(page, 'ada');
    assert.equal(await page.locator('#sidebar').isVisible(), false);
    await page.getByRole('button', { name: 'Rooms' }).click();
    await page.locator('#sidebar [data-room="small"]').click();
    await page.locator('#room-title', { hasText: 'small' }).waitFor();
    assert.equal(await page.locator('#sidebar').isVisible(), false, 'folded again once a room is open');
    const width = await page.locator('html').evaluate((el) => el.scrollWidth);
    assert.ok(width <= PHONE.width, `no sideways scrolling (${width}px)`);
  });
});

/**
 * Holds the page's next `method` request to `url` until `release`; `held` resolves once it is
 * held. `answer`: the server answers at once and the answer is what is held (a stale answer,
 * overtaken by later ones), instead of the request.
 */
async function holdRequest(page: Page, method: string, url: RegExp, hold: 'request' | 'answer' = 'request') {
  const held = signal();
  const released = signal();
  let once = false;
  await page.route(url, async (route) => {
    if (route.request().method() !== method || once) return route.fallback();
    once = true;
    const answer = hold === 'answer' ? await route.fetch() : undefined;
    held.fire();
    await released.fired;
    if (answer) await route.fulfill({ response: answer });
    else await route.continue();
  });
  return { held: held.fired, release: released.fire };
}

/** Asserts `check` holds now and keeps holding for a second: for what must not happen after a release. */
async function stays(check: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await check();
    await new Promise((r) => setTimeout(r, 100));
  }
}
