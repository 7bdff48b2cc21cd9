// The REST API as a new user meets it: register, log in, a private room, an invitation,
// posting, paging, editing, deleting, caching and an idempotent retry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, startServer, userApi } from '../../support/server.js';

test('a full REST walk-through works end to end over real HTTP', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');

  const me = await ada.get('/v1/me');
  assert.equal(me.status, 200);
  assert.deepEqual(me.body, { name: 'ada', admin: false });

  const created = await ada.post('/v1/rooms', { name: 'secret', title: 'Secret', private: true });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('location'), '/v1/rooms/secret');
  assert.equal(created.body.owner, 'ada');

  assert.equal((await bob.get('/v1/rooms/secret')).status, 404, 'a private room is invisible to outsiders');
  const invite = await ada.put('/v1/rooms/secret/members/bob');
  assert.equal(invite.status, 201);
  assert.equal(invite.headers.get('location'), '/v1/rooms/secret/members/bob');
  assert.equal((await ada.put('/v1/rooms/secret/members/bob')).status, 200, 'inviting again is idempotent');
  assert.equal((await bob.get('/v1/rooms/secret')).status, 200);

  for (let i = 1; i <= 5; i++) {
    const r = await (i % 2 ? ada : bob).post('/v1/rooms/secret/messages', { text: `message ${i}` });
    assert.equal(r.status, 201);
    assert.equal(r.body.seq, i);
    assert.equal(r.body.via, 'http');
    assert.equal(r.headers.get('location'), `/v1/rooms/secret/messages/${i}`);
  }

  const page = await bob.get('/v1/rooms/secret/messages?limit=2');
  assert.deepEqual(
    page.body.map((m: { seq: number }) => m.seq),
    [4, 5],
    'no cursor gives the latest page, ascending',
  );
  assert.match(
    page.headers.get('link') ?? '',
    /<\/v1\/rooms\/secret\/messages\?before=4&limit=2>; rel="prev"/,
  );
  const older = await bob.get('/v1/rooms/secret/messages?before=4&limit=2');
  assert.deepEqual(
    older.body.map((m: { seq: number }) => m.seq),
    [2, 3],
  );
  const after = await bob.get('/v1/rooms/secret/messages?after=1&limit=2');
  assert.deepEqual(
    after.body.map((m: { seq: number }) => m.seq),
    [2, 3],
  );
  assert.match(after.headers.get('link') ?? '', /after=3&limit=2>; rel="next"/);

  const etag = page.headers.get('etag')!;
  assert.ok(etag);
  const again = await bob.get('/v1/rooms/secret/messages?limit=2', { 'if-none-match': etag });
  assert.equal(again.status, 304, 'a repeated GET with the ETag is answered 304');
  assert.equal(again.body, '');

  const one = await ada.get('/v1/rooms/secret/messages/1');
  const edited = await ada.patch(
    '/v1/rooms/secret/messages/1',
    { text: 'message 1, edited' },
    { 'if-match': one.headers.get('etag')! },
  );
  assert.equal(edited.status, 200);
  assert.equal(edited.body.text, 'message 1, edited');
  assert.ok(edited.body.editedAt);
  const stale = await ada.patch(
    '/v1/rooms/secret/messages/1',
    { text: 'lost update' },
    { 'if-match': one.headers.get('etag')! },
  );
  assert.equal(stale.status, 412, 'a stale If-Match is refused');
  assert.equal(stale.body.code, 'precondition_failed');
  assert.equal((await bob.patch('/v1/rooms/secret/messages/1', { text: 'not mine' })).status, 403);

  const deleted = await ada.delete('/v1/rooms/secret/messages/2');
  assert.equal(deleted.status, 200, 'the owner may delete anyone’s message');
  assert.equal(deleted.body.deleted, true);
  assert.equal(deleted.body.text, undefined);
  const tomb = await bob.get('/v1/rooms/secret/messages/2');
  assert.deepEqual(
    [tomb.body.seq, tomb.body.deleted, tomb.body.text],
    [2, true, undefined],
    'the seq stays as a tombstone',
  );

  const first = await bob.post(
    '/v1/rooms/secret/messages',
    { text: 'once' },
    { 'idempotency-key': 'retry-1' },
  );
  const retry = await bob.post(
    '/v1/rooms/secret/messages',
    { text: 'once' },
    { 'idempotency-key': 'retry-1' },
  );
  assert.equal(first.status, 201);
  assert.equal(retry.status, 200);
  assert.deepEqual(retry.body, first.body, 'the retry returns the original message');
  const all = await bob.get('/v1/rooms/secret/messages?after=0&limit=200');
  assert.equal(
    all.body.filter((m: { text?: string }) => m.text === 'once').length,
    1,
    'and does not store a second',
  );

  const login = await server.api.post('/v1/tokens', { name: 'bob', password: PASSWORD });
  assert.equal(login.status, 201);
  assert.equal(login.headers.get('cache-control'), 'no-store');
});
