#!/usr/bin/env node
// The `porthouse` command: `serve` runs a node; the rest are tools for operators and clients.
import { parseArgs } from 'node:util';
import { ConfigError, renderConfigDoc, renderServeHelp } from '../config.js';
import { RealtimeError } from '../client/realtime.js';
import { ApiError } from '../client/rest.js';
import { PorthouseError } from '../core/errors.js';
import { renderFramesDoc } from '../protocol/frames-doc.js';
import { login, logout, register, whoami } from './account-commands.js';
import { token, userAdd, userAdmin } from './admin.js';
import { type ParseOptions, UsageError, clientFlags, configFlags } from './args.js';
import { listen, ping, sendFrame } from './realtime-commands.js';
import { chat } from './chat/chat.js';
import { completionScript } from './completion.js';
import { deleteMessage, edit, history, invite, join, leave, members, room, rooms } from './room-commands.js';
import { send } from './send.js';
import { sockets } from './sockets.js';
import { trace } from './trace.js';
import { serve } from './serve.js';

const USAGE = `usage:
  As a user, against any porthouse server (signs in over REST; the token is kept per server in
  $XDG_CONFIG_HOME/porthouse/credentials.json, mode 0600):
  porthouse register NAME [--server URL]     (password prompted, or on standard input)
  porthouse login [NAME] [--server URL]      (that server becomes the current one; without
                                           NAME, the one last signed in there, or asked)
  porthouse logout | whoami
  porthouse rooms [--all]                     (yours; --all: every room you may see)
  porthouse room create NAME [--private] [--title T] [--topic T]
  porthouse room show NAME | room delete NAME
  porthouse room set NAME [--title T] [--topic T] [--private|--public]
  porthouse join ROOM | leave ROOM | invite ROOM USER | members ROOM
  porthouse history ROOM [--before SEQ] [--limit N]   (oldest first; says how to page back)
  porthouse edit ROOM SEQ TEXT | delete ROOM SEQ       (only if unchanged since read: If-Match)
  porthouse chat ROOM [--via ws|tcp|sse+http] [--limit N]
                                          (interactive: recent history, then live; /help
                                           inside lists /join /part /me /who /older /quit;
                                           line by line when not on a terminal)
  Every client command takes --json (the API's answer, one line) and --server/--token;
  the operator commands below take --json too.
  porthouse completion bash|zsh               (source <(porthouse completion bash))
  Exit codes: 0 done, 1 refused by the server (its error code printed), 2 usage,
  3 the server cannot be reached.

  As an operator, on the deployment's own store (not over the network):
  porthouse serve [--host H] [--port N] [--data DIR] [--jwks-url URL] [--no-registration]
                  [--rate-limits on|off] [--config FILE] [...]   (serve --help lists them all)
  porthouse admin add-user NAME [--admin] [STORE]   (password on standard input)
  porthouse admin grant NAME [--revoke] [STORE]     (grant or take away the admin right)
  porthouse admin token NAME [STORE]                (mints a bearer token from the store's key)
  STORE: the deployment's store, --data DIR (default ./data) or --postgres URL; with
  --redis URL too, every node hears of a change of rights at once. The same commands
  answer to their short names too: user add, user admin, token.
  porthouse send ROOM TEXT [--via http|ws|tcp|udp] [--server URL] [--token T] [--json]
  porthouse listen ROOM [--via ws|tcp|udp|sse] [--since SEQ] [--count N] [--json]
                                          (one line per message; resumes after drops;
                                           over udp, gaps are reported and filled over REST)
  porthouse ping [--via ws|tcp|udp] [--count N]    (round-trip min/avg/p99; udp: loss too)
  porthouse sockets [--json]               (admin: every live socket as a five-tuple, with
                                           the kernel's RTT, cwnd and queues)
  porthouse trace ROOM SEQ [--json]         (a message's journey on that node: bytes on the
                                           wire, each stage's time, its fan-out by door)
  porthouse config-doc | frames-doc         (print docs/config.md or docs/frames.md, made
                                           from the code's own tables)
  --tcp HOST:PORT, --udp HOST:PORT (or PORTHOUSE_TCP, PORTHOUSE_UDP) name those doors;
  default: the server's host, port 7070

Client commands read PORTHOUSE_SERVER and PORTHOUSE_TOKEN, else the login kept for the current
server (default http://127.0.0.1:8080).
Every serve flag also has a PORTHOUSE_<FLAG> environment variable.`;

type Values = Record<string, unknown>;

/** `user add` and `user admin`: the short names of `admin add-user` and `admin grant`. */
const USER_VERBS: Record<string, string> = { add: 'add-user', admin: 'grant' };

/** The client commands over REST: the positionals each takes (exactly), and what it runs. */
const CLIENT_COMMANDS: Record<string, { args: string; run: (p: string[], v: Values) => Promise<void> }> = {
  login: { args: '[NAME]', run: ([name], v) => login(name, v) },
  register: { args: 'NAME', run: ([name], v) => register(name!, v) },
  logout: { args: '', run: (_, v) => logout(v) },
  whoami: { args: '', run: (_, v) => whoami(v) },
  rooms: { args: '', run: (_, v) => rooms(v) },
  room: { args: 'create|show|set|delete NAME', run: ([verb, name], v) => room(verb!, name!, v) },
  join: { args: 'ROOM', run: ([r], v) => join(r!, v) },
  leave: { args: 'ROOM', run: ([r], v) => leave(r!, v) },
  members: { args: 'ROOM', run: ([r], v) => members(r!, v) },
  history: { args: 'ROOM', run: ([r], v) => history(r!, v) },
  invite: { args: 'ROOM USER', run: ([r, user], v) => invite(r!, user!, v) },
  edit: { args: 'ROOM SEQ TEXT', run: ([r, seq, text], v) => edit(r!, seq!, text!, v) },
  delete: { args: 'ROOM SEQ', run: ([r, seq], v) => deleteMessage(r!, seq!, v) },
  chat: { args: 'ROOM', run: ([r], v) => chat(r!, v) },
};

/** Thrown by `--help`/`-h` after a command: its usage, on standard output, exit 0. */
class Help {
  constructor(readonly text: string) {}
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // Strict parsing with a `help` flag: `-h` after `--` is text (`send r -- -h`), not a request for help.
  const parse = (
    options: ParseOptions,
    positionals: 'positionals' | 'none' = 'positionals',
  ): { values: Record<string, unknown>; positionals: string[] } => {
    const parsed = parseArgs({
      args: rest,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: positionals === 'positionals',
      strict: true,
    });
    if (parsed.values['help']) throw new Help(command === 'serve' ? renderServeHelp() : USAGE);
    return parsed;
  };
  switch (command) {
    case 'serve': {
      const { values } = parse(configFlags, 'none');
      return serve(values);
    }
    case 'admin':
    case 'user':
    case 'token': {
      const { values, positionals } = parse({
        ...configFlags,
        admin: { type: 'boolean' },
        revoke: { type: 'boolean' },
        json: { type: 'boolean' },
      });
      // `admin VERB NAME`, and the short names `user add|admin NAME` and `token NAME`.
      const verb =
        command === 'token'
          ? 'token'
          : command === 'user'
            ? USER_VERBS[positionals.shift() ?? '']
            : positionals.shift();
      const [name, ...extra] = positionals;
      if (!name || extra.length > 0 || (verb !== 'add-user' && verb !== 'grant' && verb !== 'token'))
        throw new UsageError(
          'expected: admin add-user NAME, admin grant NAME [--revoke], or admin token NAME',
        );
      if (verb !== 'grant' && values['revoke'] !== undefined)
        throw new UsageError('--revoke goes with admin grant');
      if (verb !== 'add-user' && values['admin'] !== undefined)
        throw new UsageError('--admin goes with admin add-user');
      if (verb === 'grant') return userAdmin(name, values['revoke'] !== true, values);
      if (verb === 'token') return token(name, values);
      return userAdd(name, values['admin'] === true, values);
    }
    case 'send': {
      const { values, positionals } = parse(clientFlags);
      if (positionals.length !== 2) throw new UsageError('expected: send ROOM TEXT');
      const via = (values as Record<string, unknown>)['via'];
      if (via === 'ws' || via === 'tcp' || via === 'udp')
        return sendFrame(positionals[0]!, positionals[1]!, values);
      return send(positionals[0]!, positionals[1]!, values);
    }
    case 'listen': {
      const { values, positionals } = parse(clientFlags);
      if (positionals.length !== 1) throw new UsageError('expected: listen ROOM');
      return listen(positionals[0]!, values);
    }
    case 'ping': {
      const { values, positionals } = parse(clientFlags);
      if (positionals.length !== 0) throw new UsageError('expected: ping [--via ws] [--count N]');
      return ping(values);
    }
    case 'trace': {
      const { values, positionals } = parse(clientFlags);
      if (positionals.length !== 2) throw new UsageError('expected: trace ROOM SEQ');
      return trace(positionals[0]!, positionals[1]!, values);
    }
    case 'sockets': {
      const { values, positionals } = parse(clientFlags);
      if (positionals.length !== 0) throw new UsageError('expected: sockets');
      return sockets(values);
    }
    case 'completion': {
      const { positionals } = parse({});
      if (positionals.length !== 1) throw new UsageError('expected: completion bash|zsh');
      process.stdout.write(completionScript(positionals[0]));
      return;
    }
    case 'config-doc':
      process.stdout.write(`${renderConfigDoc()}\n`);
      return;
    case 'frames-doc':
      process.stdout.write(`${renderFramesDoc()}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default: {
      const client = command === undefined ? undefined : CLIENT_COMMANDS[command];
      if (!client) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
      const { values, positionals } = parse(clientFlags);
      const words = client.args.split(' ').filter(Boolean);
      const required = words.filter((w) => !w.startsWith('[')).length;
      if (positionals.length < required || positionals.length > words.length)
        throw new UsageError(`expected: ${command} ${client.args}`.trim());
      return client.run(positionals, values);
    }
  }
}

// Refusals the operator fixes (a port in use, a path that is missing or not theirs): the message
// says it all. Any other error is a bug, and its stack helps whoever reports it.
const OPERATOR_ERRORS = new Set([
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'EACCES',
  'EPERM',
  'ENOENT',
  'EISDIR',
  'ENOTDIR',
  'EROFS',
  'ENOSPC',
]);

/** Why the server could not be reached (exit 3), or undefined for any other error. */
function unreachable(err: unknown): string | undefined {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'the server did not answer in time';
  if (e?.name === 'TypeError' && e.message === 'fetch failed')
    return `cannot connect to the server (${e.cause?.code ?? e.cause?.message ?? 'no answer'})`;
  return undefined;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof Help) {
    process.stdout.write(`${err.text}\n`);
    process.exit(0);
  }
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`porthouse: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const away = unreachable(err);
  if (away) {
    process.stderr.write(`porthouse: unreachable: ${away}\n`);
    process.exit(3);
  }
  if (err instanceof ConfigError) process.stderr.write(`porthouse: invalid configuration: ${err.message}\n`);
  else if (err instanceof PorthouseError || err instanceof ApiError || err instanceof RealtimeError)
    process.stderr.write(`porthouse: ${err.code}: ${err.message}\n`);
  else if (OPERATOR_ERRORS.has(String((err as NodeJS.ErrnoException)?.code)))
    process.stderr.write(`porthouse: ${(err as Error).message}\n`);
  else process.stderr.write(`porthouse: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
