// A small REST client for porthouse, using only fetch so it runs in browsers and Node alike.
// The CLI and the web client use it; errors surface as ApiError with the server's stable code.
import type { Member, Message, Room, RoomSummary, User } from '../core/types.js';

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

/** A history page's bounds (seqs, exclusive) and size, as the API's query takes them. */
export interface HistoryQuery {
  readonly after?: number;
  readonly before?: number;
  readonly limit?: number;
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
    return (await this.exchange<T>(method, path, body, headers)).body;
  }

  /** A request whose answer's headers matter too (ETag, Link). */
  async exchange<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ body: T; headers: Headers }> {
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
    return { body: parsed as T, headers: res.headers };
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
    return this.request('PUT', `${roomPath(room)}/members/${encodeURIComponent(user)}`);
  }

  /** Post with an idempotency key, so a retry after a lost response cannot store it twice. */
  post(room: string, text: string, idempotencyKey?: string): Promise<Message> {
    const headers: Record<string, string> = idempotencyKey ? { 'idempotency-key': idempotencyKey } : {};
    return this.request('POST', `${roomPath(room)}/messages`, { text }, headers);
  }

  /**
   * Post, and try again with the same Idempotency-Key while `retryAfter(err, attempt)` gives a
   * delay in ms (attempts count from 1): however many tries it takes, it is stored once.
   */
  async postRetrying(
    room: string,
    text: string,
    retryAfter: (err: unknown, attempt: number) => number | undefined,
  ): Promise<Message> {
    const key = globalThis.crypto.randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.post(room, text, key);
      } catch (err) {
        const delay = retryAfter(err, attempt);
        if (delay === undefined) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  me(): Promise<{ name: string; admin: boolean }> {
    return this.request('GET', '/v1/me');
  }

  rooms(): Promise<RoomSummary[]> {
    return this.request('GET', '/v1/rooms');
  }

  room(name: string): Promise<Room> {
    return this.request('GET', roomPath(name));
  }

  /** Change some of a room's fields, only if it is still as read (If-Match on its ETag). */
  async updateRoom(name: string, fields: Partial<Pick<Room, 'title' | 'topic' | 'private'>>): Promise<Room> {
    const { headers } = await this.exchange('GET', roomPath(name));
    return this.request('PATCH', roomPath(name), fields, ifMatch(headers));
  }

  async deleteRoom(name: string): Promise<void> {
    await this.request('DELETE', roomPath(name));
  }

  members(room: string): Promise<Member[]> {
    return this.request('GET', `${roomPath(room)}/members`);
  }

  /** Leave a room yourself, or (its owner, an admin) remove someone. */
  async removeMember(room: string, user: string): Promise<void> {
    await this.request('DELETE', `${roomPath(room)}/members/${encodeURIComponent(user)}`);
  }

  /** One message or its tombstone. */
  message(room: string, seq: number): Promise<Message> {
    return this.request('GET', `${roomPath(room)}/messages/${seq}`);
  }

  /** Edit a message, only if it is still as read (If-Match), so a concurrent edit is not lost. */
  async edit(room: string, seq: number, text: string): Promise<Message> {
    const path = `${roomPath(room)}/messages/${seq}`;
    const { headers } = await this.exchange('GET', path);
    return this.request('PATCH', path, { text }, ifMatch(headers));
  }

  /** Delete a message, only if it is still as read (If-Match); the tombstone is returned. */
  async deleteMessage(room: string, seq: number): Promise<Message> {
    const path = `${roomPath(room)}/messages/${seq}`;
    const { headers } = await this.exchange('GET', path);
    return this.request('DELETE', path, undefined, ifMatch(headers));
  }

  /**
   * One history page and where the older one starts, from the answer's Link header
   * (`rel="prev"`), so a caller pages back without computing seqs itself.
   */
  async historyPage(
    room: string,
    query: HistoryQuery = {},
  ): Promise<{ messages: Message[]; older: { before: number } | undefined }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const suffix = qs.size > 0 ? `?${qs}` : '';
    const { body, headers } = await this.exchange<Message[]>('GET', `${roomPath(room)}/messages${suffix}`);
    const prev = /<[^>]*[?&]before=(\d+)[^>]*>;\s*rel="prev"/.exec(headers.get('link') ?? '');
    return {
      messages: body,
      older: prev ? { before: Number(prev[1]) } : undefined,
    };
  }

  history(room: string, query: HistoryQuery = {}): Promise<Message[]> {
    return this.historyPage(room, query).then((page) => page.messages);
  }
}

const roomPath = (name: string) => `/v1/rooms/${encodeURIComponent(name)}`;

const ifMatch = (headers: Headers): Record<string, string> => {
  const etag = headers.get('etag');
  return etag ? { 'if-match': etag } : {};
};
