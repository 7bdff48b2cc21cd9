// `porthouse login`, `register`, `logout` and `whoami`: signing in to any porthouse server over
// its REST door, with the token kept per server (credentials.ts) for every later client command.
import { createInterface } from 'node:readline';
import { RestClient } from '../client/rest.js';
import { UsageError, clientContext, signedIn } from './args.js';
import { credentialsPath, loadCredentials, saveCredentials, serverKey } from './credentials.js';
import { readPassword } from './password-prompt.js';
import { print } from './print.js';

function serverOf(values: Record<string, unknown>): string {
  return clientContext({ ...values, token: '' }, process.env).server;
}

async function signIn(server: string, name: string, password: string, values: Record<string, unknown>) {
  const client = new RestClient({ server });
  const t = await client.login(name, password);
  const path = credentialsPath(process.env);
  const saved = loadCredentials(path);
  saved.servers[serverKey(server)] = { name, token: t.token, expiresAt: t.expiresAt };
  saved.current = serverKey(server);
  saveCredentials(saved, path);
  print(
    values,
    { server, name, expiresAt: t.expiresAt },
    `signed in to ${server} as ${name} (until ${t.expiresAt}); saved in ${path}`,
  );
}

/** Without a name: the one last signed in on that server (a token that ran out), else asked. */
export async function login(name: string | undefined, values: Record<string, unknown>): Promise<void> {
  const server = serverOf(values);
  const who =
    name ??
    loadCredentials(credentialsPath(process.env)).servers[serverKey(server)]?.name ??
    (process.stdin.isTTY ? await askName(`name on ${server}: `) : undefined);
  if (!who) throw new UsageError('expected: login NAME (the password comes on standard input)');
  await signIn(server, who, await readPassword(`password for ${who} on ${server}: `), values);
}

function askName(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) =>
    rl.question(prompt, (answer) => {
      rl.close();
      resolve(answer.trim());
    }),
  );
}

export async function register(name: string, values: Record<string, unknown>): Promise<void> {
  const server = serverOf(values);
  const password = await readPassword(`new password for ${name} (8 characters or more): `);
  await new RestClient({ server }).register(name, password);
  await signIn(server, name, password, values);
}

/** Forget the server's token here. The token itself stays valid until it expires. */
export async function logout(values: Record<string, unknown>): Promise<void> {
  const server = serverOf(values);
  const path = credentialsPath(process.env);
  const saved = loadCredentials(path);
  const had = saved.servers[server] !== undefined;
  delete saved.servers[server];
  if (saved.current === server) delete saved.current;
  saveCredentials(saved, path);
  print(values, { server, signedOut: had }, had ? `signed out of ${server}` : `not signed in to ${server}`);
}

export async function whoami(values: Record<string, unknown>): Promise<void> {
  const ctx = signedIn(values);
  const me = await new RestClient(ctx).me();
  print(values, { server: ctx.server, ...me }, `${me.name}${me.admin ? ' (admin)' : ''} on ${ctx.server}`);
}
