// Start a real node for a test: port 0, a fresh data directory, silent logs, fast password
// hashing, rate limits off unless a test turns them on. Stopped and removed after the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { type OptionName, loadConfig } from '../../src/config.js';
import { type PorthouseServer, start } from '../../src/server.js';
import type { Store } from '../../src/store/store.js';
import type { SyncGate } from './held-sync.js';

export interface TestServer extends PorthouseServer {
  readonly dataDir: string;
  /** A client for this server with no token. */
  readonly api: Api;
}

interface AfterHook {
  after(fn: () => unknown): void;
}

export function tempDir(prefix = 'porthouse-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startServer(
  t: AfterHook | undefined,
  overrides: Partial<Record<OptionName, unknown>> = {},
  /** A logger to read what the node logs; a store, or the syncs of the node's own, to break on purpose. */
  deps: { logger?: Logger; store?: Store; wrapSync?: SyncGate['wrapSync'] } = {},
): Promise<TestServer> {
  const dataDir = (overrides.data as string | undefined) ?? tempDir();
  const config = loadConfig({
    overrides: {
      port: 0,
      tcpPort: 0,
      udpPort: 0,
      ircPort: -1,
      ircTlsPort: -1,
      data: dataDir,
      rateLimits: false,
      scryptCost: 10,
      logLevel: 'silent',
      ...overrides,
    },
  });
  const server = await start(config, { logger: pino({ level: 'silent' }), ...deps });
  const stop = async () => {
    await server.stop();
    if (overrides.data === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  t?.after(stop);
  return { ...server, dataDir, api: new Api(server.url), stop };
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the response had a JSON body, else the text ('' for none). */
  readonly body: T;
}

export interface RequestOptions {
  readonly body?: unknown;
  /** Sent as is (not JSON-encoded); pair with a content-type header. */
  readonly raw?: string | Buffer;
  readonly headers?: Record<string, string>;
}

/** A thin fetch wrapper that never throws on an HTTP status, for asserting on every answer. */
export class Api {
  constructor(
    readonly base: string,
    readonly token?: string,
  ) {}

  as(token: string | undefined): Api {
    return new Api(this.base, token);
  }

  async req<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token && !('authorization' in headers)) headers['authorization'] = `Bearer ${this.token}`;
    let body: string | Buffer | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const parsed = text && /json/.test(type) ? JSON.parse(text) : text;
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.req<T>('GET', path, headers ? { headers } : {});
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.req<T>('POST', path, { body, ...(headers ? { headers } : {}) });
  }
  put<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.req<T>('PUT', path, { body, ...(headers ? { headers } : {}) });
  }
  patch<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.req<T>('PATCH', path, {
      body,
      headers: { 'content-type': 'application/merge-patch+json', ...headers },
    });
  }
  delete<T = any>(path: string, headers?: Record<string, string>) {
    return this.req<T>('DELETE', path, headers ? { headers } : {});
  }
}

export const PASSWORD = 'correct horse battery';

/** Register `name` over REST (or create it as admin in-process) and log in; returns its client. */
export async function userApi(
  server: TestServer,
  name: string,
  options: { admin?: boolean } = {},
): Promise<Api> {
  if (options.admin) await server.services.accounts.create(name, PASSWORD, true);
  else {
    const r = await server.api.post('/v1/users', { name, password: PASSWORD });
    if (r.status !== 201) throw new Error(`register ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const t = await server.api.post('/v1/tokens', { name, password: PASSWORD });
  if (t.status !== 201) throw new Error(`login ${name}: ${t.status} ${JSON.stringify(t.body)}`);
  return server.api.as(t.body.token);
}
