// A raw client of the IRC door for tests: lines out as written, lines in parsed by the door's
// own parser, read in order. `register` does what a client does: CAP, NICK, USER, SASL PLAIN.
import { type Socket, connect } from 'node:net';
import { type IrcMessage, parseIrcLine } from '../../src/doors/irc/irc-message.js';
import type { TestServer } from './server.js';

export interface IrcLine extends IrcMessage {
  readonly raw: string;
}

export interface IrcClient {
  readonly socket: Socket;
  readonly lines: IrcLine[];
  send(...lines: string[]): void;
  /** The first line after the last one returned that matches; fails on close or timeout. */
  next(match: (l: IrcLine) => boolean, timeoutMs?: number): Promise<IrcLine>;
  /** The next line with this command (a numeric, PRIVMSG, …). */
  expect(command: string, timeoutMs?: number): Promise<IrcLine>;
  /** Resolves once the server has closed the connection. */
  ended(): Promise<void>;
}

export const ircPort = (server: TestServer) => server.addresses().find((a) => a.door === 'irc')!.port;

export async function connectIrc(port: number, host = '127.0.0.1'): Promise<IrcClient> {
  const socket = connect(port, host);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const lines: IrcLine[] = [];
  let buffer = '';
  let cursor = 0;
  let ended = false;
  const waiters = new Set<() => void>();
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buffer += d;
    for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
      const raw = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      const parsed = parseIrcLine(raw);
      if (!parsed.ok) throw new Error(`unparsable line from the server: ${JSON.stringify(raw)}`);
      lines.push({ ...parsed.message, raw });
    }
    for (const w of [...waiters]) w();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    ended = true;
    for (const w of [...waiters]) w();
  });
  const next = (match: (l: IrcLine) => boolean, timeoutMs = 5000) =>
    new Promise<IrcLine>((resolve, reject) => {
      const check = () => {
        for (let i = cursor; i < lines.length; i++)
          if (match(lines[i]!)) {
            cursor = i + 1;
            done();
            resolve(lines[i]!);
            return;
          }
        if (ended) {
          done();
          reject(
            new Error(
              `closed; last lines: ${lines
                .slice(-8)
                .map((l) => l.raw)
                .join(' | ')}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no matching line; last lines: ${lines
              .slice(-8)
              .map((l) => l.raw)
              .join(' | ')}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    socket,
    lines,
    send: (...out) => socket.write(out.map((l) => `${l}\r\n`).join('')),
    next,
    expect: (command, timeoutMs) => next((l) => l.command === command, timeoutMs),
    ended: () =>
      ended ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve())),
  };
}

/**
 * Connect and register as `nick` with SASL PLAIN (`secret`: a password or a token), asking for
 * `caps` as well; resolves after the end of the MOTD (or 422).
 */
export async function registerIrc(
  server: TestServer,
  nick: string,
  secret: string,
  caps: readonly string[] = [],
): Promise<IrcClient> {
  const c = await connectIrc(ircPort(server));
  c.send('CAP LS 302', `NICK ${nick}`, 'USER u 0 * :Test User', `CAP REQ :${['sasl', ...caps].join(' ')}`);
  await c.next((l) => l.command === 'CAP' && l.params[1] === 'ACK');
  c.send('AUTHENTICATE PLAIN');
  await c.expect('AUTHENTICATE');
  // In pieces of 400 bytes, as SASL over IRC carries it (a token is longer than one piece).
  const payload = Buffer.from(`\0${nick}\0${secret}`).toString('base64');
  for (let i = 0; i < payload.length; i += 400) c.send(`AUTHENTICATE ${payload.slice(i, i + 400)}`);
  if (payload.length % 400 === 0) c.send('AUTHENTICATE +');
  await c.expect('903');
  c.send('CAP END');
  await c.next((l) => l.command === '376' || l.command === '422');
  return c;
}

/** The next batch the server opens: its BATCH + line and the lines tagged with it, up to its end. */
export async function readBatch(c: IrcClient): Promise<{ start: IrcLine; lines: IrcLine[] }> {
  const start = await c.next((l) => l.command === 'BATCH' && l.params[0]!.startsWith('+'));
  const id = start.params[0]!.slice(1);
  const lines: IrcLine[] = [];
  for (;;) {
    const l = await c.next(
      (x) => x.tags.get('batch') === id || (x.command === 'BATCH' && x.params[0] === `-${id}`),
    );
    if (l.command === 'BATCH') return { start, lines };
    lines.push(l);
  }
}
