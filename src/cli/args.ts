// Command-line flags for the config table: every option is `--kebab-case VALUE`, plus the
// `--no-registration` switch. Client commands share --server and --token.
import type { parseArgs } from 'node:util';
import { OPTIONS, flagOf } from '../config.js';

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
};

export interface ClientContext {
  readonly server: string;
  readonly token: string | undefined;
}

export function clientContext(values: Record<string, unknown>, env: NodeJS.ProcessEnv): ClientContext {
  return {
    server: (values['server'] as string | undefined) ?? env['PORTHOUSE_SERVER'] ?? 'http://127.0.0.1:8080',
    token: (values['token'] as string | undefined) ?? env['PORTHOUSE_TOKEN'],
  };
}

/** A usage mistake: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
