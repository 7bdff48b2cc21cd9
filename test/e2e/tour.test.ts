// The guided tour in a real Chromium: offered on a first visit, driven by the keyboard alone, it
// posts through REST and the WebSocket, shows a command line for TCP and UDP that works as
// printed, and opens each message's journey; closed, it stays closed until asked for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { run } from '../support/cli.js';
import { startServer, userApi } from '../support/server.js';
import { browserMissing, launch, openPage, pageErrors, signIn } from './browser.js';

/** The command the tour shows, run as printed (its token substitution is the user's real token). */
async function runShown(page: Page, token: string): Promise<void> {
  const shown = (await page.locator('.tour .command').textContent()) ?? '';
  const server = /PORTHOUSE_SERVER=(\S+)/.exec(shown)?.[1];
  const args = /npx porthouse (send .*)$/.exec(shown.trim())?.[1];
  assert.ok(server && args, `a command line: ${shown}`);
  const argv = [...args.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  const sent = await run(argv, undefined, { PORTHOUSE_SERVER: server, PORTHOUSE_TOKEN: token });
  assert.equal(sent.code, 0, sent.stderr);
}

describe('the guided tour in Chromium', { skip: browserMissing() }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launch();
  });
  after(() => browser?.close());

  test('walks REST, WebSocket, TCP and UDP with each journey open, by keyboard, and stays dismissed', async (t) => {
    const server = await startServer(t);
    const ada = await userApi(server, 'ada');
    const page = await openPage(browser, server.url, undefined, { tour: true });
    await signIn(page, 'ada');
    const tour = page.getByRole('region', { name: 'A tour of the doors' });
    await tour.waitFor();

    await tour.getByRole('button', { name: 'Start the tour' }).press('Enter');
    await page.locator('#room-title', { hasText: 'tour-ada' }).waitFor();
    const region = page.locator('section.tour');
    await region.getByRole('heading', { name: /REST/ }).waitFor();
    await page.locator('#tour-title:focus').waitFor();

    // Next moves the focus to the new step's heading; the keyboard goes on from there.
    const nextStep = async () => {
      await region.getByRole('button', { name: 'Next' }).press('Enter');
      await page.locator('#tour-title:focus').waitFor();
    };
    const steps: [string, string, RegExp][] = [
      ['Send through REST', 'http', /HTTP request line, header lines, blank line, JSON body/],
      ['Send over the WebSocket', 'ws', /WebSocket frame: header, masking key/],
    ];
    let seq = 0;
    for (const [button, door, framing] of steps) {
      seq++;
      await region.getByRole('button', { name: button }).press('Enter');
      const journey = region.getByRole('region', { name: `Journey of message ${seq}` });
      await journey.locator('[data-stage="durable"]').waitFor();
      const text = (await journey.textContent()) ?? '';
      assert.match(text, new RegExp(`Received by the ${door} door: \\d+ bytes on the wire`));
      assert.match(text, framing);
      await journey.locator('[data-fanout="ws"]', { hasText: '1 recipient' }).waitFor();
      await nextStep();
    }

    for (const door of ['tcp', 'udp']) {
      seq++;
      await region.locator('.waiting', { hasText: `over ${door.toUpperCase()}` }).waitFor();
      const shown = (await region.locator('.command').textContent()) ?? '';
      const port = server.addresses().find((a) => a.door === door)!.port;
      assert.ok(shown.includes(`--via ${door} --${door} 127.0.0.1:${port}`), shown);
      await runShown(page, ada.token!);
      const journey = region.getByRole('region', { name: `Journey of message ${seq}` });
      await journey.locator('[data-stage="durable"]').waitFor();
      assert.match((await journey.textContent()) ?? '', new RegExp(`Received by the ${door} door`));
      await nextStep();
    }
    await region.getByRole('heading', { name: 'That was every layer' }).waitFor();
    await region.getByRole('button', { name: 'Finish' }).press('Enter');
    await region.waitFor({ state: 'detached' });
    const stored = (await ada.get('/v1/rooms/tour-ada/messages')).body.map((m: { via: string }) => m.via);
    assert.deepEqual(stored, ['http', 'ws', 'tcp', 'udp']);

    // Closed, it is not offered again; the header's Tour button brings it back, Escape closes it.
    await page.reload();
    await page.locator('[data-status="ready"]').waitFor();
    assert.equal(await page.locator('section.tour').count(), 0);
    await page.getByRole('button', { name: 'Tour', exact: true }).click();
    await region.getByRole('button', { name: 'Start the tour' }).focus();
    await page.keyboard.press('Escape');
    await region.waitFor({ state: 'detached' });
    assert.deepEqual(pageErrors(page), []);
  });
});
