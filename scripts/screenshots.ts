// Takes the README's screenshots of the web client (docs/img/web-*.png) and of `porthouse chat`
// in a terminal (docs/img/cli-chat.png) against a real server with messages from every door:
// `npm run screenshots`. Needs Debian's Chromium and tmux, like the e2e tests.
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DESKTOP, PHONE, launch, openPage, openRoom, send, signIn } from '../test/e2e/browser.js';
import { CLI, run } from '../test/support/cli.js';
import { startServer, userApi } from '../test/support/server.js';
import { openTerminal } from '../test/support/terminal.js';

/** A terminal screen with SGR colour codes (tmux capture-pane -e) as HTML, for a screenshot. */
function terminalHtml(captured: string): string {
  const colours: Record<string, string> = { 31: '#f47067', 32: '#57ab5a', 33: '#c69026', 34: '#539bf5', 35: '#b083f0', 36: '#39c5cf' };
  let bold = false;
  let dim = false;
  let colour: string | undefined;
  let html = '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: SGR sequences are what it reads.
  for (const part of captured.replace(/\n+$/, '').split(/(\u001b\[[0-9;]*m)/)) {
    const sgr = /^\u001b\[([0-9;]*)m$/.exec(part);
    if (!sgr) {
      const text = part.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      html += `<span style="${bold ? 'font-weight:bold;' : ''}${dim ? 'opacity:.6;' : ''}${colour ? `color:${colour}` : ''}">${text}</span>`;
      continue;
    }
    for (const code of (sgr[1] || '0').split(';')) {
      if (code === '0') [bold, dim, colour] = [false, false, undefined];
      else if (code === '1') bold = true;
      else if (code === '2') dim = true;
      else if (code === '22') [bold, dim] = [false, false];
      else if (code === '39') colour = undefined;
      else if (colours[code]) colour = colours[code];
    }
  }
  return `<body style="margin:0;background:#1c2128;color:#cdd9e5"><pre style="margin:0;padding:16px;font:15px/18px 'DejaVu Sans Mono',monospace">${html}</pre></body>`;
}

const out = (name: string) => fileURLToPath(new URL(`../../docs/img/${name}`, import.meta.url));

const server = await startServer(undefined);
const ada = await userApi(server, 'ada', { admin: true });
const bob = await userApi(server, 'bob');
const cy = await userApi(server, 'cy');
await ada.post('/v1/rooms', { name: 'lobby', title: 'Lobby', topic: 'Say hello from any door' });
await ada.post('/v1/rooms', { name: 'ops', private: true, title: 'Operations' });
await ada.post('/v1/rooms', { name: 'random' });
for (const who of [bob, cy]) await who.put(`/v1/rooms/lobby/members/${who === bob ? 'bob' : 'cy'}`);
const port = (door: string) => server.addresses().find((d) => d.door === door)!.port;

await bob.post('/v1/rooms/lobby/messages', { text: 'Morning! Posted with curl, over plain REST.' });
const tcp = await run(
  ['send', 'lobby', 'This one came in over a raw TCP socket, one JSON line.', '--via', 'tcp', '--tcp', `127.0.0.1:${port('tcp')}`, '--server', server.url],
  undefined,
  { PORTHOUSE_TOKEN: cy.token! },
);
const udp = await run(
  ['send', 'lobby', 'And this one in a single UDP datagram (acked once stored).', '--via', 'udp', '--udp', `127.0.0.1:${port('udp')}`, '--server', server.url],
  undefined,
  { PORTHOUSE_TOKEN: bob.token! },
);
if (tcp.code !== 0 || udp.code !== 0) throw new Error(`send failed: ${tcp.stderr} ${udp.stderr}`);
await bob.post('/v1/rooms/random/messages', { text: 'unread over here' });
await ada.post('/v1/rooms/random/messages', { text: 'and here' });

// A raw TCP listener, so the Network panel shows more than browsers.
const listener = connect(port('tcp'), '127.0.0.1');
listener.write(`${JSON.stringify({ type: 'auth', token: cy.token })}\n${JSON.stringify({ type: 'sub', room: 'lobby' })}\n`);

const browser = await launch();
try {
  const signInPage = await openPage(browser, server.url, { width: 900, height: 620 });
  await signInPage.screenshot({ path: out('web-sign-in.png') });

  const b = await openPage(browser, server.url, DESKTOP);
  await signIn(b, 'bob');
  await openRoom(b, 'lobby');

  const a = await openPage(browser, server.url, DESKTOP);
  await signIn(a, 'ada');
  await openRoom(a, 'lobby');
  await send(a, 'Typed in the browser: WebSocket, with a pending tick until the ack.');
  await a.locator('.messages [data-seq="4"]').waitFor();
  await b.locator('#composer').pressSequentially('On my way');
  await a.locator('.typing', { hasText: 'bob is typing' }).waitFor();
  await a.screenshot({ path: out('web-chat.png') });

  await a.getByRole('button', { name: 'Network' }).click();
  await a.locator('.network tr[data-door="tcp"]', { hasText: 'cy' }).waitFor();
  await a.screenshot({ path: out('web-network.png') });

  // The guided tour, its REST step done and that message's journey open.
  await a.getByRole('button', { name: 'Chat', exact: true }).click();
  await a.getByRole('button', { name: 'Tour', exact: true }).click();
  await a.getByRole('button', { name: 'Start the tour' }).click();
  await a.getByRole('button', { name: 'Send through REST' }).click();
  await a.locator('.tour .journey [data-fanout="tcp"]').waitFor();
  await a.screenshot({ path: out('web-tour.png') });

  const phone = await openPage(browser, server.url, PHONE);
  await signIn(phone, 'bob');
  await openRoom(phone, 'lobby');
  await phone.screenshot({ path: out('web-phone.png') });

  // `porthouse chat` in a real terminal (tmux), drawn as the terminal shows it, colours and all.
  const term = openTerminal(
    `env PORTHOUSE_SERVER=${server.url} PORTHOUSE_TOKEN=${cy.token} TZ=UTC ${process.execPath} ${CLI} chat lobby`,
    { columns: 96, lines: 18 },
  );
  try {
    await term.shows(/· ws$/);
    term.type('/me waves from a terminal');
    term.press('Enter');
    await term.shows(/\* cy waves/);
    await b.locator('#composer').pressSequentially(', see you there');
    await term.shows(/bob is typing/);
    term.type('half a reply, still at the bottom');
    await term.shows(/half a reply, still at the bottom$/);
    const shot = await browser.newPage({ viewport: { width: 96 * 9 + 32, height: 18 * 18 + 32 } });
    await shot.setContent(terminalHtml(term.styled()));
    await shot.screenshot({ path: out('cli-chat.png') });
  } finally {
    term.close();
  }
  console.log('wrote docs/img/web-sign-in.png, web-chat.png, web-network.png, web-tour.png, web-phone.png, cli-chat.png');
} finally {
  listener.destroy();
  await browser.close();
  await server.stop();
}
