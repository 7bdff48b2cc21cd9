// A real Chromium for end-to-end tests: Debian's /usr/bin/chromium (or PORTHOUSE_CHROMIUM) driven
// by playwright-core; nothing is downloaded. Without the browser the suites are skipped with the
// reason printed, except under CI=true, where a missing browser fails the run.
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';

export const CHROMIUM = process.env.PORTHOUSE_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set PORTHOUSE_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  process.stderr.write(`\n*** SKIPPING the browser tests: ${reason} ***\n\n`);
  return reason;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 800 };

/**
 * A fresh browser context (its own sessionStorage: another user) with one page. The guided tour
 * a first visit opens is marked seen unless `tour` asks for it.
 */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = DESKTOP,
  { tour = false }: { tour?: boolean } = {},
): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ viewport });
  if (!tour) await context.addInitScript("localStorage.setItem('porthouse.tour', 'seen')");
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  // An alert() would mean injected script ran: fail loudly rather than hang.
  page.on('dialog', (dialog) => {
    if (dialog.type() === 'confirm') void dialog.accept();
    else {
      errors.push(`unexpected ${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    }
  });
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(url);
  return page;
}

export const pageErrors = (page: Page): string[] => (page as Page & { errors: string[] }).errors;

/** Register through the form, then wait for the live connection. */
export async function register(page: Page, name: string, password = 'correct horse battery'): Promise<void> {
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await signInForm(page, name, password, 'Register');
}

export async function signIn(page: Page, name: string, password = 'correct horse battery'): Promise<void> {
  await signInForm(page, name, password, 'Sign in');
}

async function signInForm(page: Page, name: string, password: string, button: string): Promise<void> {
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.locator('[data-status="ready"]').waitFor();
}

export async function openRoom(page: Page, room: string): Promise<void> {
  // At phone width the list is folded behind the Rooms button.
  const toggle = page.locator('.rooms-toggle');
  if (await toggle.isVisible()) await toggle.click();
  await page.locator(`.sidebar [data-room="${room}"]`).click();
  await page.locator('#room-title', { hasText: room }).waitFor();
}

/** The seqs shown in the open room, in screen order. */
export const shownSeqs = (page: Page): Promise<number[]> =>
  page
    .locator('.messages [data-seq]')
    .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));

export async function send(page: Page, text: string): Promise<void> {
  await page.locator('#composer').fill(text);
  await page.locator('#composer').press('Enter');
}
