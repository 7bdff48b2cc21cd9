// Where `porthouse login` keeps its sign-ins: one token per server, and which server is current,
// in $XDG_CONFIG_HOME/porthouse/credentials.json (else ~/.config/…), readable by its owner only
// (0600 in a 0700 directory), as gh and psql keep theirs.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface SignIn {
  readonly name: string;
  readonly token: string;
  readonly expiresAt?: string;
}

export interface Credentials {
  /** The server client commands talk to when neither --server nor PORTHOUSE_SERVER says. */
  current?: string;
  servers: Record<string, SignIn>;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] || join(env['HOME'] || homedir(), '.config');
  return join(base, 'porthouse', 'credentials.json');
}

/** A server URL as a key: no trailing slash, so `http://h:8080/` and `http://h:8080` are one. */
export const serverKey = (url: string): string => url.replace(/\/+$/, '');

export function loadCredentials(path = credentialsPath()): Credentials {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Credentials>;
    return { ...(parsed.current ? { current: parsed.current } : {}), servers: parsed.servers ?? {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    throw new Error(`${path} cannot be read (${(err as Error).message}): remove it and log in again`);
  }
}

/** Written whole to a temporary file, then renamed: a crash never leaves half a file. */
export function saveCredentials(credentials: Credentials, path = credentialsPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}
