// Command-line flags for the config table: every option is `--kebab-case VALUE`, plus the
// `--no-registration` switch. Client commands share --server and --token.
import type { parseArgs } from 'node:util';
import { OPTIONS, flagOf } from '../config.js';
import { type Credentials, credentialsPath, loadCredentials, serverKey } from './credentials.js';

export type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

export const configFlags: ParseOptions = Object.fromEntries([
  ...Object.keys(OPTIONS).map((name) => [flagOf(name), { type: 'string' as const }]),
  ['no-registration', { type: 'boolean' as const }],
  ['config', { type: 'string' as const }],
]);

/** Parsed flag values keyed by option name, for loadConfig's `flags` layer. */
export function configFromFlags(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(OPTIONS)) {
    const v = values[flagOf(name)];
    if (v !== undefined) out[name] = v;
  }
  if (values['no-registration']) out['registration'] = false;
  if (values['config'] !== undefined) out['config'] = values['config'];
  return out;
}

export const clientFlags: ParseOptions = {
  server: { type: 'string' },
  token: { type: 'string' },
  via: { type: 'string' },
  json: { type: 'boolean' },
  since: { type: 'string' },
  count: { type: 'string' },
  tcp: { type: 'string' },
  udp: { type: 'string' },
  all: { type: 'boolean' },
  private: { type: 'boolean' },
  public: { type: 'boolean' },
  title: { type: 'string' },
  topic: { type: 'string' },
  before: { type: 'string' },
  limit: { type: 'string' },
};

/** A client command that needs to be signed in: the server and its token, or a usage error saying how. */
export function signedIn(values: Record<string, unknown>): { server: string; token: string } {
  const ctx = clientContext(values, process.env);
  if (!ctx.token)
    throw new UsageError(
      `not signed in to ${ctx.server}: porthouse login [NAME] (or --token T, PORTHOUSE_TOKEN)`,
    );
  return { server: ctx.server, token: ctx.token };
}

/** A flag that must be a whole number ≥ `min`, or undefined when absent. */
export function intFlag(values: Record<string, unknown>, name: string, min = 0): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}`);
  return n;
}

export interface ClientContext {
  readonly server: string;
  readonly token: string | undefined;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/**
 * The server and token a client command uses: --server / --token, else PORTHOUSE_SERVER /
 * PORTHOUSE_TOKEN, else what `porthouse login` kept (its current server, and that server's
 * token), else the local default server.
 */
export function clientContext(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  saved: Credentials = loadCredentials(credentialsPath(env)),
): ClientContext {
  // An empty variable is an unset one (`PORTHOUSE_TOKEN= porthouse …`).
  const server = serverKey(
    (values['server'] as string | undefined) || env['PORTHOUSE_SERVER'] || saved.current || DEFAULT_SERVER,
  );
  return {
    server,
    token: (values['token'] as string | undefined) || env['PORTHOUSE_TOKEN'] || saved.servers[server]?.token,
  };
}

/** A usage mistake: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
