// Who may do what, over real HTTP: one row per (caller, request, kind of room) with the answer
// the contract promises. The rules live in src/core/authorize.ts; this pins them at the door, so
// a route that forgets to ask (or asks the wrong question) shows up as a failing row.
//
// Callers: `anonymous` (no token), `badToken` (`Bearer garbage`), `expired` (a token past its
// `exp`), `deleted` (the old token of a user since deleted), `outsider` (logged in, not a
// member), `member` (invited; wrote message {seq}), `other` (invited; wrote nothing), `owner`
// (created the room), `admin`. Every room has owner, member and other, and one message by member.
// Rows that only read share one public and one private room; every other row gets rooms of its
// own, so no row depends on what another did.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Api, type TestServer, startServer, userApi } from '../../support/server.js';
import { signWithServerKey } from '../../support/tokens.js';

type Caller =
  | 'anonymous'
  | 'badToken'
  | 'expired'
  | 'deleted'
  | 'outsider'
  | 'member'
  | 'other'
  | 'owner'
  | 'admin';
type Kind = 'public' | 'private';
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * [caller, method, path, kind of room, status, error code, note]. The path's `{room}` and
 * `{seq}` are filled in from the row's room, `{self}` with the caller's own name.
 */
type Row = readonly [Caller, Method, string, Kind, number, string?, string?];

const ROOMS = '/v1/rooms';
const ROOM = '/v1/rooms/{room}';
const MEMBERS = `${ROOM}/members`;
const MESSAGES = `${ROOM}/messages`;
const MESSAGE = `${MESSAGES}/{seq}`;

const NAME: Record<Caller, string> = {
  anonymous: 'nobody',
  badToken: 'nobody',
  expired: 'member',
  deleted: 'departed',
  outsider: 'outsider',
  member: 'member',
  other: 'other',
  owner: 'owner',
  admin: 'admin',
};

const SUBJECT: Record<Caller, string> = {
  anonymous: 'an anonymous caller',
  badToken: 'a caller with an invalid token',
  expired: 'a caller with an expired token',
  deleted: "a deleted user's old token",
  outsider: 'an outsider',
  member: 'the member',
  other: 'another member',
  owner: 'the owner',
  admin: 'an admin',
};

let server: TestServer;
const apis = {} as Record<Caller, Api>;
const shared = {} as Record<Kind, Fixture>;

interface Fixture {
  readonly name: string;
  readonly seq: number;
}

let made = 0;

/** A room of `kind` owned by owner, with member and other in it and one message by member. */
async function makeRoom(kind: Kind): Promise<Fixture> {
  const name = `${kind}-${++made}`;
  const created = await apis.owner.post(ROOMS, { name, private: kind === 'private' });
  assert.equal(created.status, 201, `fixture: create ${name}`);
  for (const user of ['member', 'other']) {
    const joined = await apis.owner.put(`${ROOMS}/${name}/members/${user}`);
    assert.equal(joined.status, 201, `fixture: invite ${user} to ${name}`);
  }
  const posted = await apis.member.post(`${ROOMS}/${name}/messages`, { text: 'written by member' });
  assert.equal(posted.status, 201, `fixture: post in ${name}`);
  return { name, seq: posted.body.seq };
}

function bodyOf(method: Method, path: string, kind: Kind): unknown {
  if (method === 'POST' && path === ROOMS) return { name: `made-${++made}` };
  if (method === 'PUT' && path === ROOM)
    return { title: 'Replaced', topic: 'replaced', private: kind === 'private' };
  if (method === 'PATCH' && path === ROOM) return { topic: 'patched' };
  if (method === 'POST' && path === MESSAGES) return { text: 'hello' };
  if (method === 'PATCH' && path === MESSAGE) return { text: 'edited' };
  if (method === 'PATCH' && path.startsWith('/v1/users/')) return { admin: false };
  return undefined;
}

function title([who, method, path, kind, status, code, note]: Row): string {
  const where = path.includes('{room}') ? ` in a ${kind} room` : '';
  const tail = note ? ` (${note})` : '';
  return code
    ? `${SUBJECT[who]} gets ${status} ${code} for ${method} ${path}${where}${tail}`
    : `${SUBJECT[who]} may ${method} ${path}${where}: ${status}${tail}`;
}

async function check(row: Row): Promise<void> {
  const [who, method, template, kind, status, code] = row;
  const room = method === 'GET' ? shared[kind] : await makeRoom(kind);
  const path = template
    .replace('{room}', room.name)
    .replace('{seq}', String(room.seq))
    .replace('{self}', NAME[who]);
  const body = bodyOf(method, template, kind);
  const api = apis[who];
  const res =
    method === 'PATCH'
      ? await api.patch(path, body)
      : await api.req(method, path, body === undefined ? {} : { body });
  const actual = { status: res.status, code: res.status >= 400 ? res.body?.code : undefined };
  assert.deepEqual(actual, { status, code }, `${who}: ${method} ${path}`);
  if (code) assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json\b/);
}

function table(rows: readonly Row[]): void {
  for (const row of rows) it(title(row), () => check(row));
}

before(async () => {
  server = await startServer(undefined);
  apis.anonymous = server.api;
  apis.badToken = server.api.as('garbage');
  for (const who of ['outsider', 'member', 'other', 'owner'] as const) apis[who] = await userApi(server, who);
  apis.admin = await userApi(server, 'admin', { admin: true });
  await userApi(server, 'newcomer');
  apis.expired = server.api.as(
    await signWithServerKey(server, { sub: 'member', exp: Math.floor(Date.now() / 1000) - 60 }),
  );
  apis.deleted = await userApi(server, 'departed');
  assert.equal((await apis.deleted.delete('/v1/users/departed')).status, 204);
  shared.public = await makeRoom('public');
  shared.private = await makeRoom('private');
});

after(() => server?.stop());

/** Every endpoint under /v1 that needs a token, as [method, path]. */
const GUARDED: readonly (readonly [Method, string])[] = [
  ['GET', '/v1/me'],
  ['GET', '/v1/users/member'],
  ['DELETE', '/v1/users/member'],
  ['PATCH', '/v1/users/member'],
  ['GET', ROOMS],
  ['POST', ROOMS],
  ['GET', ROOM],
  ['PUT', ROOM],
  ['PATCH', ROOM],
  ['DELETE', ROOM],
  ['GET', MEMBERS],
  ['GET', `${MEMBERS}/member`],
  ['PUT', `${MEMBERS}/newcomer`],
  ['DELETE', `${MEMBERS}/member`],
  ['GET', MESSAGES],
  ['POST', MESSAGES],
  ['GET', MESSAGE],
  ['PATCH', MESSAGE],
  ['DELETE', MESSAGE],
  ['GET', `${ROOM}/events`],
  ['GET', '/v1/sockets'],
];

describe('every /v1 endpoint but registering and logging in needs a valid token', () => {
  table(GUARDED.map(([method, path]): Row => ['anonymous', method, path, 'public', 401, 'unauthorized']));
  table(GUARDED.map(([method, path]): Row => ['badToken', method, path, 'public', 401, 'token_invalid']));
  table(GUARDED.map(([method, path]): Row => ['expired', method, path, 'public', 401, 'token_expired']));
  table(GUARDED.map(([method, path]): Row => ['deleted', method, path, 'public', 401, 'token_invalid']));

  it('an anonymous caller may register (POST /v1/users) and log in (POST /v1/tokens): 201', async () => {
    const credentials = { name: 'walk-in', password: 'a long enough password' };
    const registered = await server.api.post('/v1/users', credentials);
    assert.equal(registered.status, 201);
    const login = await server.api.post('/v1/tokens', credentials);
    assert.equal(login.status, 201);
    assert.equal(typeof login.body.token, 'string');
  });
});

describe('only admins list the node’s sockets', () => {
  table([
    ['member', 'GET', '/v1/sockets', 'public', 403, 'forbidden'],
    ['owner', 'GET', '/v1/sockets', 'public', 403, 'forbidden'],
    ['admin', 'GET', '/v1/sockets', 'public', 200],
  ]);
});

describe("only admins change a user's rights, and never their own", () => {
  table([
    ['member', 'PATCH', '/v1/users/newcomer', 'public', 403, 'forbidden'],
    ['owner', 'PATCH', '/v1/users/newcomer', 'public', 403, 'forbidden'],
    ['member', 'PATCH', '/v1/users/member', 'public', 403, 'forbidden', 'their own'],
    ['admin', 'PATCH', '/v1/users/admin', 'public', 403, 'forbidden', 'their own'],
    ['admin', 'PATCH', '/v1/users/newcomer', 'public', 200],
  ]);
});

describe('a private room is invisible to outsiders on every room-scoped endpoint', () => {
  table([
    ['outsider', 'GET', `${ROOM}/events`, 'private', 404, 'room_not_found', 'the SSE stream'],
    ['outsider', 'GET', ROOM, 'private', 404, 'room_not_found'],
    ['outsider', 'PUT', ROOM, 'private', 404, 'room_not_found'],
    ['outsider', 'PATCH', ROOM, 'private', 404, 'room_not_found'],
    ['outsider', 'DELETE', ROOM, 'private', 404, 'room_not_found'],
    ['outsider', 'GET', MEMBERS, 'private', 404, 'room_not_found'],
    ['outsider', 'GET', `${MEMBERS}/member`, 'private', 404, 'room_not_found'],
    ['outsider', 'PUT', `${MEMBERS}/{self}`, 'private', 404, 'room_not_found', 'joining'],
    ['outsider', 'PUT', `${MEMBERS}/newcomer`, 'private', 404, 'room_not_found', 'inviting'],
    ['outsider', 'DELETE', `${MEMBERS}/{self}`, 'private', 404, 'room_not_found', 'leaving'],
    ['outsider', 'DELETE', `${MEMBERS}/member`, 'private', 404, 'room_not_found', 'removing'],
    ['outsider', 'DELETE', `${MEMBERS}/owner`, 'private', 404, 'room_not_found', 'removing the owner'],
    ['outsider', 'GET', MESSAGES, 'private', 404, 'room_not_found'],
    ['outsider', 'POST', MESSAGES, 'private', 404, 'room_not_found'],
    ['outsider', 'GET', MESSAGE, 'private', 404, 'room_not_found'],
    ['outsider', 'PATCH', MESSAGE, 'private', 404, 'room_not_found'],
    ['outsider', 'DELETE', MESSAGE, 'private', 404, 'room_not_found'],
  ]);
});

describe('members, the owner and admins can read a private room', () => {
  const reads = [ROOM, MEMBERS, `${MEMBERS}/member`, MESSAGES, MESSAGE];
  table(
    (['member', 'owner', 'admin'] as const).flatMap((who) =>
      reads.map((path): Row => [who, 'GET', path, 'private', 200]),
    ),
  );
});

describe('any logged-in user can read a public room', () => {
  const reads = [ROOM, MEMBERS, `${MEMBERS}/member`, MESSAGES, MESSAGE];
  table(
    (['outsider', 'member', 'owner', 'admin'] as const).flatMap((who) =>
      reads.map((path): Row => [who, 'GET', path, 'public', 200]),
    ),
  );
});

describe('posting a message takes membership (or admin)', () => {
  table([
    ['member', 'POST', MESSAGES, 'public', 201],
    ['owner', 'POST', MESSAGES, 'public', 201],
    ['admin', 'POST', MESSAGES, 'public', 201],
    ['member', 'POST', MESSAGES, 'private', 201],
    ['owner', 'POST', MESSAGES, 'private', 201],
    ['admin', 'POST', MESSAGES, 'private', 201],
    ['outsider', 'POST', MESSAGES, 'public', 403, 'not_a_member'],
  ]);
});

describe('only its author or an admin can edit a message', () => {
  table([
    ['member', 'PATCH', MESSAGE, 'public', 200, undefined, 'its author'],
    ['admin', 'PATCH', MESSAGE, 'public', 200],
    ['owner', 'PATCH', MESSAGE, 'public', 403, 'forbidden', 'not its author'],
    ['other', 'PATCH', MESSAGE, 'public', 403, 'forbidden'],
    ['outsider', 'PATCH', MESSAGE, 'public', 403, 'forbidden'],
    ['member', 'PATCH', MESSAGE, 'private', 200, undefined, 'its author'],
    ['admin', 'PATCH', MESSAGE, 'private', 200],
    ['owner', 'PATCH', MESSAGE, 'private', 403, 'forbidden', 'not its author'],
    ['other', 'PATCH', MESSAGE, 'private', 403, 'forbidden'],
  ]);
});

describe('its author, the room owner or an admin can delete a message', () => {
  table([
    ['member', 'DELETE', MESSAGE, 'public', 200, undefined, 'its author'],
    ['owner', 'DELETE', MESSAGE, 'public', 200],
    ['admin', 'DELETE', MESSAGE, 'public', 200],
    ['other', 'DELETE', MESSAGE, 'public', 403, 'forbidden'],
    ['outsider', 'DELETE', MESSAGE, 'public', 403, 'forbidden'],
    ['member', 'DELETE', MESSAGE, 'private', 200, undefined, 'its author'],
    ['owner', 'DELETE', MESSAGE, 'private', 200],
    ['admin', 'DELETE', MESSAGE, 'private', 200],
    ['other', 'DELETE', MESSAGE, 'private', 403, 'forbidden'],
  ]);
});

describe('only the owner or an admin can replace, patch or delete a room', () => {
  const ok = { PUT: 200, PATCH: 200, DELETE: 204 } as const;
  table(
    (['PUT', 'PATCH', 'DELETE'] as const).flatMap((method): Row[] => [
      ['owner', method, ROOM, 'public', ok[method]],
      ['admin', method, ROOM, 'public', ok[method]],
      ['member', method, ROOM, 'public', 403, 'forbidden'],
      ['outsider', method, ROOM, 'public', 403, 'forbidden'],
      ['owner', method, ROOM, 'private', ok[method]],
      ['admin', method, ROOM, 'private', ok[method]],
      ['member', method, ROOM, 'private', 403, 'forbidden'],
    ]),
  );
});

describe('anyone may join a public room; members, the owner and admins may invite', () => {
  table([
    ['outsider', 'PUT', `${MEMBERS}/{self}`, 'public', 201, undefined, 'joining'],
    ['outsider', 'PUT', `${MEMBERS}/newcomer`, 'public', 403, 'not_a_member', 'inviting'],
    ['member', 'PUT', `${MEMBERS}/newcomer`, 'public', 201, undefined, 'inviting'],
    ['owner', 'PUT', `${MEMBERS}/newcomer`, 'public', 201, undefined, 'inviting'],
    ['admin', 'PUT', `${MEMBERS}/newcomer`, 'public', 201, undefined, 'inviting'],
    ['member', 'PUT', `${MEMBERS}/newcomer`, 'private', 201, undefined, 'inviting'],
    ['owner', 'PUT', `${MEMBERS}/newcomer`, 'private', 201, undefined, 'inviting'],
    ['admin', 'PUT', `${MEMBERS}/newcomer`, 'private', 201, undefined, 'inviting'],
    ['admin', 'PUT', `${MEMBERS}/{self}`, 'private', 201, undefined, 'joining'],
  ]);
});

describe('anyone may leave; only the owner or an admin may remove others; the owner cannot leave', () => {
  table([
    ['member', 'DELETE', `${MEMBERS}/{self}`, 'public', 204, undefined, 'leaving'],
    ['member', 'DELETE', `${MEMBERS}/{self}`, 'private', 204, undefined, 'leaving'],
    ['member', 'DELETE', `${MEMBERS}/other`, 'public', 403, 'forbidden', 'removing another member'],
    ['member', 'DELETE', `${MEMBERS}/other`, 'private', 403, 'forbidden', 'removing another member'],
    ['outsider', 'DELETE', `${MEMBERS}/member`, 'public', 403, 'forbidden', 'removing a member'],
    ['owner', 'DELETE', `${MEMBERS}/member`, 'public', 204, undefined, 'removing a member'],
    ['owner', 'DELETE', `${MEMBERS}/member`, 'private', 204, undefined, 'removing a member'],
    ['admin', 'DELETE', `${MEMBERS}/member`, 'public', 204, undefined, 'removing a member'],
    ['admin', 'DELETE', `${MEMBERS}/member`, 'private', 204, undefined, 'removing a member'],
    ['owner', 'DELETE', `${MEMBERS}/{self}`, 'public', 409, 'owner_cannot_leave'],
    ['owner', 'DELETE', `${MEMBERS}/{self}`, 'private', 409, 'owner_cannot_leave'],
    ['member', 'DELETE', `${MEMBERS}/owner`, 'public', 409, 'owner_cannot_leave'],
    ['member', 'DELETE', `${MEMBERS}/owner`, 'private', 409, 'owner_cannot_leave'],
    ['admin', 'DELETE', `${MEMBERS}/owner`, 'public', 409, 'owner_cannot_leave'],
    ['admin', 'DELETE', `${MEMBERS}/owner`, 'private', 409, 'owner_cannot_leave'],
    ['outsider', 'DELETE', `${MEMBERS}/owner`, 'public', 409, 'owner_cannot_leave'],
  ]);
});

describe('GET /v1/rooms lists the public rooms and the caller’s private ones; admins see all', () => {
  const cases: readonly (readonly [Caller, boolean])[] = [
    ['outsider', false],
    ['member', true],
    ['owner', true],
    ['admin', true],
  ];
  for (const [who, seesPrivate] of cases) {
    it(`${SUBJECT[who]} ${seesPrivate ? 'sees' : 'does not see'} the private room, and sees the public one`, async () => {
      const res = await apis[who].get(ROOMS);
      assert.equal(res.status, 200);
      const names = (res.body as { name: string }[]).map((r) => r.name);
      assert.ok(names.includes(shared.public.name), `${who} sees ${shared.public.name}: ${names}`);
      assert.equal(
        names.includes(shared.private.name),
        seesPrivate,
        `${who} and ${shared.private.name}: ${names}`,
      );
    });
  }
});
