// `porthouse chat ROOM [--via ws|tcp|sse+http]`: an interactive chat in the terminal. On a
// terminal the keyboard goes to a line editor in raw mode; through pipes, each input line is a
// line typed and the output is plain text, so a script can drive it too.
import { createInterface } from 'node:readline';
import { RestClient } from '../../client/rest.js';
import { UsageError, intFlag, signedIn } from '../args.js';
import { CHAT_VIAS, type ChatVia, openChatLink } from './chat-link.js';
import { ANSI, PLAIN } from './chat-lines.js';
import { ChatScreen } from './chat-screen.js';
import { ChatSession } from './chat-session.js';
import { LineEditor } from './line-editor.js';

export async function chat(room: string, values: Record<string, unknown>): Promise<void> {
  const { server, token } = signedIn(values);
  const via = ((values['via'] as string | undefined) ?? 'ws') as ChatVia;
  if (!CHAT_VIAS.includes(via)) throw new UsageError(`--via ${via}: chat speaks ${CHAT_VIAS.join(', ')}`);
  const rest = new RestClient({ server, token });
  const me = await rest.me();

  const stdin = process.stdin;
  const stdout = process.stdout;
  // Full screen needs a keyboard and a screen; with either one redirected, or JSON asked for,
  // lines in and out.
  const json = values['json'] === true;
  const terminal = stdin.isTTY === true && stdout.isTTY === true && !json;
  const style = terminal && !process.env['NO_COLOR'] ? ANSI : PLAIN;
  const screen = new ChatScreen(stdout, terminal);
  const historyLimit =
    intFlag(values, 'limit', 1) ?? (terminal ? Math.max(5, Math.min(100, (stdout.rows ?? 24) - 4)) : 20);
  const session = new ChatSession({
    me: me.name,
    via,
    rest,
    screen,
    style,
    json,
    historyLimit,
    link: (onFrame, onStatus) => openChatLink({ server, token, via, values, onFrame, onStatus }),
  });

  const editor = new LineEditor();
  const drawPrompt = () => screen.prompt({ chars: editor.chars, cursor: editor.cursor });
  const ticker = setInterval(() => session.tick(), 1000);
  const stop = () => session.end(0);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, stop);
  let teardown = () => {};

  // Start at the bottom of the screen, as the prompt stays there: what was on it scrolls up.
  if (terminal) stdout.write('\r\n'.repeat(Math.max(0, (stdout.rows ?? 24) - 1)));
  try {
    await session.enter(room);
  } catch (err) {
    session.end(1);
    clearInterval(ticker);
    for (const s of signals) process.off(s, stop);
    screen.close();
    throw err;
  }

  if (terminal) {
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    // Bracketed paste: a pasted block arrives marked, so its line breaks do not send it line by line.
    stdout.write('\u001b[?2004h');
    drawPrompt();
    const onData = (chunk: string) => {
      for (const e of editor.feed(chunk)) {
        if (e.type === 'submit') session.submit(e.line);
        else if (e.type === 'changed') session.edited(editor.text);
        else if (e.type === 'interrupt' || e.type === 'eof') stop();
        else if (e.type === 'repaint') screen.repaint(true);
      }
      drawPrompt();
    };
    const onResize = () => screen.repaint();
    stdin.on('data', onData);
    stdout.on('resize', onResize);
    teardown = () => {
      stdin.off('data', onData);
      stdout.off('resize', onResize);
      stdout.write('\u001b[?2004l');
      stdin.setRawMode(false);
    };
  } else {
    const lines = createInterface({ input: stdin, terminal: false });
    lines.on('line', (line) => session.submit(line));
    lines.on('close', () => void session.finish());
    teardown = () => lines.close();
  }

  const code = await session.ended;
  clearInterval(ticker);
  for (const s of signals) process.off(s, stop);
  teardown();
  screen.close();
  stdin.pause();
  if (code !== 0) process.exitCode = code;
}
