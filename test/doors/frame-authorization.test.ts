// Who may do what over the frame doors: one row per (door, caller, frame, kind of room) with the
// answer the contract promises, the same table for WebSocket, TCP and UDP, so a door that forgets
// to ask (or asks the wrong question) shows up as a failing row. Then the tokens no door may
// accept, and a member removed while subscribed on every door at once (WebSocket, TCP, UDP, SSE).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openSse } from '../support/sse.js';
import { type Api, type TestServer, startServer, userApi } from '../support/server.js';
import { signWithServerKey } from '../support/tokens.js';
import { type Frame, connectWs } from '../support/ws.js';

type Door = 'ws' | 'tcp' | 'udp';
type Caller = 'outsider' | 'member' | 'owner' | 'admin';
type Kind = 'public' | 'private';
type Verb = 'sub' | 'pub' | 'typing';

/** What a frame door client can do in a test: send frames, wait for one. */
interface FrameClient {
  readonly frames: Frame[];
  send(frame: Record<string, unknown>): void;
  next(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  close(): void;
}

function waiter(frames: Frame[]) {
  const waiters = new Set<() => void>();
  return {
    push(f: Frame) {
      frames.push(f);
      for (const w of [...waiters]) w();
    },
    next(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames.slice(-5))}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
  };
}

async function tcpClient(server: TestServer, token: string | undefined): Promise<FrameClient> {
  const port = server.addresses().find((a) => a.door === 'tcp')!.port;
  const socket = connect(port, '127.0.0.1');
  const frames: Frame[] = [];
  const w = waiter(frames);
  let buffer = '';
  socket.on('data', (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      w.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
  });
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  const send = (f: Record<string, unknown>) => socket.write(`${JSON.stringify(f)}\n`);
  if (token !== undefined) send({ type: 'auth', token, ref: 'auth' });
  return { frames, send, next: w.next, close: () => socket.destroy() };
}

/** Every datagram carries the token; a `sub` answered with a challenge is sent again with the cookie. */
async function udpClient(server: TestServer, token: string | undefined): Promise<FrameClient> {
  const port = server.addresses().find((a) => a.door === 'udp')!.port;
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const frames: Frame[] = [];
  const w = waiter(frames);
  const sent = new Map<string, Record<string, unknown>>();
  const send = (f: Record<string, unknown>) => {
    if (typeof f['ref'] === 'string') sent.set(f['ref'], f);
    socket.send(JSON.stringify(token === undefined ? f : { ...f, token }), port, '127.0.0.1');
  };
  socket.on('message', (msg) => {
    const f = JSON.parse(String(msg)) as Frame;
    const asked = typeof f['ref'] === 'string' ? sent.get(f['ref']) : undefined;
    if (f.type === 'challenge' && asked) send({ ...asked, cookie: f['cookie'] });
    else w.push(f);
  });
  return { frames, send, next: w.next, close: () => socket.close() };
}

async function frameClient(door: Door, server: TestServer, token: string | undefined): Promise<FrameClient> {
  if (door === 'tcp') return tcpClient(server, token);
  if (door === 'udp') return udpClient(server, token);
  const c = await connectWs(server.url, { ...(token === undefined ? {} : { token }), auth: false });
  if (token !== undefined) c.send({ type: 'auth', token, ref: 'auth' });
  return { frames: c.frames, send: (f) => c.send(f), next: (m, t) => c.next(m, t), close: () => c.close() };
}

/** [caller, verb, kind, expected: 'ok' or the error code]. The same for every door. */
type Row = readonly [Caller, Verb, Kind, string];
const ROWS: Row[] = [];
for (const kind of ['public', 'private'] as const)
  for (const caller of ['outsider', 'member', 'owner', 'admin'] as const)
    for (const verb of ['sub', 'pub', 'typing'] as const) {
      let expected = 'ok';
      if (caller === 'outsider' && kind === 'private') expected = 'room_not_found';
      else if (caller === 'outsider' && verb !== 'sub') expected = 'not_a_member';
      ROWS.push([caller, verb, kind, expected]);
    }

const NAMES: Record<Caller, string> = {
  outsider: 'outsider',
  member: 'member',
  owner: 'owner',
  admin: 'admin',
};

describe('frame doors: who may sub, pub and type, on every door', () => {
  let server: TestServer;
  const apis = {} as Record<Caller | 'watcher', Api>;
  const rooms = {} as Record<Kind, string>;
  const watchers = {} as Record<Kind, FrameClient>;

  before(async () => {
    server = await startServer(undefined, { rateLimits: false });
    apis.owner = await userApi(server, 'owner');
    for (const c of ['outsider', 'member'] as const) apis[c] = await userApi(server, NAMES[c]);
    apis.admin = await userApi(server, 'admin', { admin: true });
    apis.watcher = await userApi(server, 'watcher');
    for (const kind of ['public', 'private'] as const) {
      rooms[kind] = `fd-${kind}`;
      assert.equal(
        (await apis.owner.post('/v1/rooms', { name: rooms[kind], private: kind === 'private' })).status,
        201,
      );
      for (const u of ['member', 'watcher'])
        assert.equal((await apis.owner.put(`/v1/rooms/${rooms[kind]}/members/${u}`)).status, 201);
      // The watcher sees typing notices: a `typing` that was allowed reaches it.
      const w = await frameClient('ws', server, apis.watcher.token!);
      await w.next((f) => f.type === 'ready');
      w.send({ type: 'sub', room: rooms[kind], ref: 's' });
      await w.next((f) => f.type === 'subbed');
      watchers[kind] = w;
    }
  });
  after(async () => {
    for (const w of Object.values(watchers)) w.close();
    await server.stop();
  });

  for (const door of ['ws', 'tcp', 'udp'] as const)
    for (const [caller, verb, kind, expected] of ROWS)
      it(`${door}: the ${caller} ${verb === 'sub' ? 'subscribing to' : verb === 'pub' ? 'publishing in' : 'typing in'} a ${kind} room → ${expected}`, async () => {
        const c = await frameClient(door, server, apis[caller].token!);
        try {
          if (door !== 'udp') await c.next((f) => f.type === 'ready');
          const room = rooms[kind];
          const ref = `${door}-${caller}-${verb}-${kind}`;
          const marker = watchers[kind].frames.length;
          // A typing frame has no ref: its refusal is known by its room.
          c.send(
            verb === 'pub'
              ? { type: 'pub', room, text: 'hi', ref }
              : verb === 'sub'
                ? { type: 'sub', room, ref }
                : { type: 'typing', room },
          );
          const answer = (f: Frame) =>
            verb === 'typing' ? f.type === 'error' && f.room === room : f.ref === ref;
          if (expected !== 'ok') {
            const err = await c.next(answer);
            assert.equal(err.type, 'error');
            assert.equal(err.code, expected);
            return;
          }
          if (verb === 'sub') assert.equal((await c.next((f) => f.ref === ref)).type, 'subbed');
          else if (verb === 'pub') assert.equal((await c.next((f) => f.ref === ref)).type, 'ack');
          else {
            const seen = await watchers[kind].next(
              (f) =>
                f.type === 'typing' && f.user === NAMES[caller] && watchers[kind].frames.indexOf(f) >= marker,
            );
            assert.equal(seen.room, room);
            assert.equal(c.frames.find(answer), undefined, 'no error for an allowed typing notice');
          }
        } finally {
          c.close();
        }
      });

  for (const door of ['ws', 'tcp', 'udp'] as const) {
    it(`${door}: no token, an expired token, a token from another key, one for another audience and a deleted user's are all refused`, async () => {
      const expired = await signWithServerKey(server, {
        sub: 'member',
        exp: Math.floor(Date.now() / 1000) - 60,
      });
      const wrongAud = await signWithServerKey(server, { sub: 'member' }, { aud: 'someone-else' });
      const foreign = apis.member.token!.replace(/\.[^.]+$/, '.c2lnbmVkIGVsc2V3aGVyZQ');
      const departed = await userApi(server, `departed-${door}`);
      assert.equal((await departed.delete(`/v1/users/departed-${door}`)).status, 204);
      const cases: [string | undefined, string][] = [
        [expired, 'token_expired'],
        [wrongAud, 'token_invalid'],
        [foreign, 'token_invalid'],
        [departed.token, 'token_invalid'],
      ];
      for (const [token, code] of cases) {
        const c = await frameClient(door, server, token);
        try {
          if (door === 'udp') c.send({ type: 'pub', room: rooms.public, text: 'x', ref: 'r' });
          const err = await c.next((f) => f.type === 'error');
          assert.equal(err.code, code, `${code} on ${door}`);
        } finally {
          c.close();
        }
      }
      // No token at all: a frame before authentication. (Padded: a UDP answer is never larger
      // than its request, so a tiny one would get no answer at all.)
      const anonymous = await frameClient(door, server, undefined);
      try {
        anonymous.send({ type: 'pub', room: rooms.public, text: 'x'.repeat(200), ref: 'anon' });
        const err = await anonymous.next((f) => f.type === 'error');
        assert.equal(err.code, 'unauthorized');
      } finally {
        anonymous.close();
      }
    });
  }
});

describe('a member removed while subscribed', () => {
  it('stops receiving the room on every door at once: WebSocket, TCP, UDP and SSE', async (t) => {
    const server = await startServer(t, { rateLimits: false });
    const owner = await userApi(server, 'owner');
    const member = await userApi(server, 'member');
    await owner.post('/v1/rooms', { name: 'secret', private: true });
    await owner.put('/v1/rooms/secret/members/member');
    const clients: Record<Door, FrameClient> = {
      ws: await frameClient('ws', server, member.token!),
      tcp: await frameClient('tcp', server, member.token!),
      udp: await frameClient('udp', server, member.token!),
    };
    t.after(() => {
      for (const c of Object.values(clients)) c.close();
    });
    for (const [door, c] of Object.entries(clients)) {
      if (door !== 'udp') await c.next((f) => f.type === 'ready');
      c.send({ type: 'sub', room: 'secret', ref: `sub-${door}` });
      await c.next((f) => f.type === 'subbed');
    }
    const sse = await openSse(`${server.url}/v1/rooms/secret/events`, {
      authorization: `Bearer ${member.token}`,
    });
    await sse.next((e) => e.event === 'subbed');
    await owner.post('/v1/rooms/secret/messages', { text: 'before' });
    for (const c of Object.values(clients)) await c.next((f) => f.type === 'msg' && f.text === 'before');
    await sse.next((e) => e.event === 'msg');

    assert.equal((await owner.delete('/v1/rooms/secret/members/member')).status, 204);
    for (const [door, c] of Object.entries(clients))
      assert.equal((await c.next((f) => f.type === 'unsubbed')).room, 'secret', `${door} is told`);
    await sse.ended();
    assert.equal(sse.events.at(-1)?.event, 'unsubbed', 'the SSE stream ends with unsubbed');
    await owner.post('/v1/rooms/secret/messages', { text: 'after' });
    await new Promise((r) => setTimeout(r, 300));
    for (const [door, c] of Object.entries(clients))
      assert.equal(
        c.frames.some((f) => f.type === 'msg' && f.text === 'after'),
        false,
        `${door} gets nothing after the removal`,
      );
  });
});

describe('a user deleted while connected', () => {
  it('is cut off on every door at once (WebSocket 4401, TCP, UDP and SSE told token_invalid); their token opens nothing; the name is not given out again', async (t) => {
    const server = await startServer(t, { rateLimits: false });
    const owner = await userApi(server, 'owner');
    const bob = await userApi(server, 'bob');
    await owner.post('/v1/rooms', { name: 'lobby' });
    await owner.post('/v1/rooms', { name: 'secret', private: true });
    await bob.put('/v1/rooms/lobby/members/bob');
    await owner.put('/v1/rooms/secret/members/bob');
    assert.equal((await bob.post('/v1/rooms/lobby/messages', { text: 'bob was here' })).status, 201);
    const watcher = await frameClient('ws', server, owner.token!);
    await watcher.next((f) => f.type === 'ready');
    watcher.send({ type: 'sub', room: 'lobby', ref: 'w' });
    await watcher.next((f) => f.type === 'subbed');
    const clients: Record<Door, FrameClient> = {
      ws: await frameClient('ws', server, bob.token!),
      tcp: await frameClient('tcp', server, bob.token!),
      udp: await frameClient('udp', server, bob.token!),
    };
    t.after(() => {
      watcher.close();
      for (const c of Object.values(clients)) c.close();
    });
    for (const [door, c] of Object.entries(clients)) {
      if (door !== 'udp') await c.next((f) => f.type === 'ready');
      c.send({ type: 'sub', room: 'lobby', ref: `sub-${door}` });
      await c.next((f) => f.type === 'subbed');
    }
    const ws = await connectWs(server.url, { token: bob.token! });
    const wsClosed = ws.closed();
    const sse = await openSse(`${server.url}/v1/rooms/lobby/events`, {
      authorization: `Bearer ${bob.token}`,
    });
    await sse.next((e) => e.event === 'subbed');

    // Only bob or an admin may delete bob; the owner of rooms may not be deleted while they own any.
    assert.equal((await owner.delete('/v1/users/bob')).body.code, 'forbidden');
    const owns = await owner.delete('/v1/users/owner');
    assert.deepEqual([owns.status, owns.body.code], [409, 'user_owns_rooms']);
    assert.match(owns.body.detail, /lobby, secret/);

    assert.equal((await bob.delete('/v1/users/bob')).status, 204);
    assert.deepEqual(await wsClosed, { code: 4401, reason: 'The user of this token was deleted.' });
    for (const door of ['tcp', 'udp'] as const) {
      const err = await clients[door].next((f) => f.type === 'error');
      assert.equal(err.code, 'token_invalid', `${door} is told`);
    }
    await sse.ended();
    const last = sse.events.at(-1)!;
    assert.deepEqual([last.event, last.data.code], ['error', 'token_invalid']);
    // The owner sees bob leave every room; bob's messages stay under his name.
    assert.equal((await watcher.next((f) => f.type === 'member_left')).user, 'bob');
    const members = await owner.get('/v1/rooms/secret/members');
    assert.deepEqual(
      members.body.map((m: { user: string }) => m.user),
      ['owner'],
    );
    const history = await owner.get('/v1/rooms/lobby/messages');
    assert.deepEqual(
      history.body.map((m: { author: string; text: string }) => [m.author, m.text]),
      [['bob', 'bob was here']],
    );
    // Nothing more reaches the old connections, and the old token opens nothing on any door.
    await owner.post('/v1/rooms/lobby/messages', { text: 'after bob' });
    await watcher.next((f) => f.type === 'msg' && f.text === 'after bob');
    for (const [door, c] of Object.entries(clients))
      assert.ok(
        !c.frames.some((f) => f.type === 'msg' && f.text === 'after bob'),
        `${door} gets nothing more`,
      );
    assert.equal((await bob.get('/v1/me')).body.code, 'token_invalid');
    for (const door of ['ws', 'tcp', 'udp'] as const) {
      const again = await frameClient(door, server, bob.token!);
      try {
        if (door === 'udp') again.send({ type: 'pub', room: 'lobby', text: 'x'.repeat(100), ref: 'r' });
        assert.equal((await again.next((f) => f.type === 'error')).code, 'token_invalid', door);
      } finally {
        again.close();
      }
    }
    // The name is not given out again (bob's messages stay under it).
    const taken = await server.api.post('/v1/users', { name: 'bob', password: 'another password' });
    assert.deepEqual([taken.status, taken.body.code], [409, 'user_exists']);
  });

  it('an admin may delete anyone', async (t) => {
    const server = await startServer(t, { rateLimits: false });
    const admin = await userApi(server, 'root', { admin: true });
    const carol = await userApi(server, 'carol');
    assert.equal((await admin.delete('/v1/users/carol')).status, 204);
    assert.equal((await carol.get('/v1/me')).status, 401);
    assert.equal((await admin.get('/v1/users/carol')).body.code, 'user_not_found');
    assert.equal((await admin.delete('/v1/users/carol')).body.code, 'user_not_found');
  });
});
