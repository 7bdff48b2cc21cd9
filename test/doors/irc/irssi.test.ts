// The IRC door against irssi from Debian's packages, driven through tmux as a person would type:
// SASL from its config, autojoin, a line typed in, messages from REST and the WebSocket shown in
// its channel log, and after a reconnect the missed ones fetched with CHATHISTORY.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PASSWORD, startServer, tempDir, userApi } from '../../support/server.js';
import { ircPort } from '../../support/irc.js';
import { openTerminal, programMissing } from '../../support/terminal.js';
import { connectWs } from '../../support/ws.js';

async function until<T>(what: string, read: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('irssi signs in with SASL, joins, sends and receives, and fills a gap with CHATHISTORY', {
  timeout: 90_000,
  skip: programMissing('irssi') ?? programMissing('tmux'),
}, async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  const home = tempDir('porthouse-irssi-');
  const log = join(home, 'logs', '#general.log');
  t.after(() => rmSync(home, { recursive: true, force: true }));
  writeFileSync(
    join(home, 'config'),
    `servers = ( { address = "127.0.0.1"; chatnet = "ph"; port = "${ircPort(server)}"; use_tls = "no"; autoconnect = "yes"; } );
chatnets = { ph = { type = "IRC"; sasl_mechanism = "PLAIN"; sasl_username = "ada"; sasl_password = "${PASSWORD}"; }; };
channels = ( { name = "#general"; chatnet = "ph"; autojoin = "yes"; } );
settings = {
  core = { real_name = "Ada"; user_name = "ada"; nick = "ada"; settings_autosave = "no"; };
  "fe-common/core" = { autolog = "yes"; autolog_path = "${home}/logs/$0.log"; autolog_level = "all"; };
};
`,
  );
  const term = openTerminal(`irssi --home=${home}`, { columns: 200, lines: 50, after: (fn) => t.after(fn) });
  const type = (text: string) => {
    term.type(text);
    term.press('Enter');
  };
  const logText = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const inLog = (what: string, pattern: RegExp) =>
    until(what, () => (pattern.test(logText()) ? true : undefined)).catch((err: Error) => {
      throw new Error(`${err.message}; the log:\n${logText()}\nthe screen:\n${term.rows().join('\n')}`);
    });

  await inLog('irssi to join #general', /ada \[ada@porthouse\] has joined #general/);
  // Its autojoin made the room, owned by ada; bob joins it over REST and listens on the WebSocket.
  assert.equal((await ada.get('/v1/rooms/general')).body.owner, 'ada');
  await bob.put('/v1/rooms/general/members/bob');
  const ws = await connectWs(server.url, { token: bob.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'general' });
  await ws.next((f) => f.type === 'subbed');

  type('/window goto #general');
  type('hello from irssi');
  const heard = await ws.next((f) => f.type === 'msg' && f.author === 'ada');
  assert.deepEqual([heard.text, heard.via], ['hello from irssi', 'irc']);
  await bob.post('/v1/rooms/general/messages', { text: 'hi irssi, from REST' });
  ws.send({ type: 'pub', room: 'general', text: 'and from the WebSocket', ref: 1 });
  await inLog('the REST message in irssi', /< ?bob> hi irssi, from REST/);
  await inLog('the WebSocket message in irssi', /< ?bob> and from the WebSocket/);
  const last = (await ada.get('/v1/rooms/general/messages')).body.at(-1).seq as number;

  // A drop: irssi is disconnected, bob goes on, irssi comes back and asks for what it missed.
  type('/disconnect');
  await until('the IRC connection to close', () => (server.irc.size === 0 ? true : undefined));
  await bob.post('/v1/rooms/general/messages', { text: 'while you were away 1' });
  await bob.post('/v1/rooms/general/messages', { text: 'while you were away 2' });
  assert.doesNotMatch(logText(), /while you were away/);
  type('/connect ph');
  await until('irssi to join again', () =>
    logText().match(/ada \[ada@porthouse\] has joined #general/g)?.length === 2 ? true : undefined,
  );
  // /quote goes to the active window's server: the channel's, once it is joined again.
  type('/window goto #general');
  type(`/quote CHATHISTORY AFTER #general msgid=general:${last} 50`);
  await inLog(
    'the missed messages in irssi',
    /< ?bob> while you were away 1[\s\S]*< ?bob> while you were away 2/,
  );
});
