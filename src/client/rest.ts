// A small REST client for porthouse, using only fetch so it runs in browsers and Node alike.
// The CLI and the web client use it; errors surface as ApiError with the server's stable code.
import type { Message, Room, User } from '../core/types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export interface RestClientOptions {
  /** Base URL of the node, e.g. http://127.0.0.1:8080. */
  readonly server: string;
  readonly token?: string | undefined;
  /** Milliseconds before a request is abandoned. */
  readonly timeout?: number;
}

export class RestClient {
  readonly #server: string;
  readonly #timeout: number;
  token: string | undefined;

  constructor(options: RestClientOptions) {
    this.#server = options.server.replace(/\/+$/, '');
    this.token = options.token;
    this.#timeout = options.timeout ?? 10_000;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (this.token) h['authorization'] = `Bearer ${this.token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(this.#server + path, {
      method,
      headers: h,
      signal: AbortSignal.timeout(this.#timeout),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const p = (parsed ?? {}) as { code?: string; detail?: string };
      throw new ApiError(res.status, p.code ?? 'http_' + res.status, p.detail ?? res.statusText);
    }
    return parsed as T;
  }

  register(name: string, password: string): Promise<User> {
    return this.request('POST', '/v1/users', { name, password });
  }

  async login(name: string, password: string): Promise<{ token: string; expiresAt: string }> {
    const t = await this.request<{ token: string; expiresAt: string }>('POST', '/v1/tokens', {
      name,
      password,
    });
    this.token = t.token;
    return t;
  }

  createRoom(room: { name: string; title?: string; topic?: string; private?: boolean }): Promise<Room> {
    return this.request('POST', '/v1/rooms', room);
  }

  join(room: string, user: string): Promise<unknown> {
    return this.request('PUT', `/v1/rooms/${encodeURIComponent(room)}/members/${encodeURIComponent(user)}`);
  }

  /** Post with an idempotency key, so a retry after a lost response cannot store it twice. */
  post(room: string, text: string, idempotencyKey?: string): Promise<Message> {
    const headers: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return this.request('POST', `/v1/rooms/${encodeURIComponent(room)}/messages`, { text }, headers);
  }

  history(room: string, query: { after?: number; before?: number; limit?: number } = {}): Promise<Message[]> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const suffix = qs.size > 0 ? `?${qs}` : '';
    return this.request('GET', `/v1/rooms/${encodeURIComponent(room)}/messages${suffix}`);
  }
}
