// Bad input gets a clear problem+json with a stable code, and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signWithServerKey } from '../../support/tokens.js';
import { type Api, type ApiResponse, type TestServer, startServer, userApi } from '../../support/server.js';

function assertProblem(r: ApiResponse, status: number, code: string): void {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${JSON.stringify(r.body)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const p = r.body as { type: string; title: string; status: number; detail: string; code: string };
  assert.equal(p.code, code);
  assert.equal(p.status, status);
  assert.equal(p.type, `urn:porthouse:error:${code}`);
  assert.ok(p.title && p.detail);
}

describe('bad input over REST', () => {
  let server: TestServer;
  let ada: Api;
  after(() => server?.stop());
  before(async () => {
    server = await startServer(undefined, { bodyLimit: 65_536, maxTextLength: 4000 });
    ada = await userApi(server, 'ada');
    await ada.post('/v1/rooms', { name: 'general' });
  });

  test('malformed JSON → 400 malformed_json', async () => {
    const r = await ada.req('POST', '/v1/rooms/general/messages', {
      raw: '{"text": ',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(r, 400, 'malformed_json');
  });

  test('a __proto__ key → 400 malformed_json (no prototype pollution)', async () => {
    const r = await ada.req('POST', '/v1/rooms', {
      raw: '{"name":"x","__proto__":{"admin":true}}',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(r, 400, 'malformed_json');
  });

  test('an empty JSON body → 400 malformed_json', async () => {
    const r = await ada.req('POST', '/v1/rooms', {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(r, 400, 'malformed_json');
  });

  test('a content type other than JSON → 415 unsupported_media_type', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await ada.req('POST', '/v1/rooms/general/messages', {
        raw: 'text=hi',
        headers: { 'content-type': type },
      });
      assertProblem(r, 415, 'unsupported_media_type');
    }
  });

  test('a body over the limit → 413 body_too_large', async () => {
    const r = await ada.post('/v1/rooms/general/messages', { text: 'x'.repeat(70_000) });
    assertProblem(r, 413, 'body_too_large');
  });

  test('text over the limit → 422 text_too_long, counted in code points', async () => {
    assertProblem(
      await ada.post('/v1/rooms/general/messages', { text: 'x'.repeat(4001) }),
      422,
      'text_too_long',
    );
    const emoji = await ada.post('/v1/rooms/general/messages', { text: '👋'.repeat(4000) });
    assert.equal(emoji.status, 201, '4000 emoji (8000 UTF-16 units) are within 4000 characters');
  });

  test('blank, empty or malformed text → 422 text_invalid', async () => {
    assertProblem(await ada.post('/v1/rooms/general/messages', { text: '   ' }), 422, 'text_invalid');
    assertProblem(await ada.post('/v1/rooms/general/messages', { text: '' }), 422, 'text_invalid');
    assertProblem(await ada.patch('/v1/rooms/general/messages/1', { text: '' }), 422, 'text_invalid');
    const lone = await ada.req('POST', '/v1/rooms/general/messages', {
      raw: '{"text":"bad \\ud800 half"}',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(lone, 422, 'text_invalid');
  });

  test('unknown fields → 422 validation_failed naming the field', async () => {
    const r = await ada.post('/v1/rooms', { name: 'extra', colour: 'blue' });
    assertProblem(r, 422, 'validation_failed');
    assert.deepEqual((r.body as { errors: unknown[] }).errors, [
      { path: '/body/colour', message: 'is not a known field' },
    ]);
  });

  test('wrong types and missing fields → 422 with every failing path', async () => {
    const r = await ada.post('/v1/rooms', { title: 5, private: 'yes' });
    assertProblem(r, 422, 'validation_failed');
    const paths = (r.body as { errors: { path: string }[] }).errors.map((e) => e.path).sort();
    assert.deepEqual(paths, ['/body/name', '/body/private', '/body/title']);
  });

  test('bad room names → 422 validation_failed, in bodies and in paths', async () => {
    for (const name of ['Upper', '-dash', 'with space', 'x'.repeat(65), '']) {
      assertProblem(await ada.post('/v1/rooms', { name }), 422, 'validation_failed');
    }
    assertProblem(await ada.get('/v1/rooms/BAD_NAME/messages'), 422, 'validation_failed');
  });

  test('bad query parameters → 422 validation_failed', async () => {
    assertProblem(await ada.get('/v1/rooms/general/messages?limit=201'), 422, 'validation_failed');
    assertProblem(await ada.get('/v1/rooms/general/messages?limit=0'), 422, 'validation_failed');
    assertProblem(await ada.get('/v1/rooms/general/messages?after=-1'), 422, 'validation_failed');
    assertProblem(await ada.get('/v1/rooms/general/messages?after=abc'), 422, 'validation_failed');
    assertProblem(await ada.get('/v1/rooms/general/messages?sort=desc'), 422, 'validation_failed');
  });

  test('unknown rooms, messages, members and users → 404 with their own codes', async () => {
    assertProblem(await ada.get('/v1/rooms/nowhere'), 404, 'room_not_found');
    assertProblem(await ada.post('/v1/rooms/nowhere/messages', { text: 'hi' }), 404, 'room_not_found');
    assertProblem(await ada.get('/v1/rooms/general/messages/999'), 404, 'message_not_found');
    assertProblem(await ada.get('/v1/rooms/general/members/nobody'), 404, 'member_not_found');
    assertProblem(await ada.put('/v1/rooms/general/members/nobody'), 404, 'user_not_found');
    assertProblem(await ada.get('/v1/users/nobody'), 404, 'user_not_found');
    assertProblem(await ada.get('/v1/nothing-here'), 404, 'not_found');
  });

  test('a known path with the wrong method → 405 method_not_allowed with an Allow header', async () => {
    const r = await ada.req('POST', '/v1/me');
    assertProblem(r, 405, 'method_not_allowed');
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    const m = await ada.req('PUT', '/v1/rooms/general/messages');
    assertProblem(m, 405, 'method_not_allowed');
    assert.equal(m.headers.get('allow'), 'GET, HEAD, POST');
  });

  test('a stale If-Match → 412 precondition_failed, and nothing changes', async () => {
    await ada.post('/v1/rooms', { name: 'guarded', title: 'Before' });
    const read = await ada.get('/v1/rooms/guarded');
    const etag = read.headers.get('etag')!;
    assert.equal((await ada.patch('/v1/rooms/guarded', { topic: 'one' }, { 'if-match': etag })).status, 200);
    assertProblem(
      await ada.put('/v1/rooms/guarded', { title: 'x', topic: 'y', private: false }, { 'if-match': etag }),
      412,
      'precondition_failed',
    );
    assertProblem(await ada.delete('/v1/rooms/guarded', { 'if-match': etag }), 412, 'precondition_failed');
    assertProblem(
      await ada.delete('/v1/rooms/guarded', { 'if-match': 'W/"r1-1"' }),
      412,
      'precondition_failed',
    );
    assert.equal((await ada.get('/v1/rooms/guarded')).body.topic, 'one');
  });

  test('duplicate users and rooms → 409', async () => {
    assertProblem(
      await server.api.post('/v1/users', { name: 'ada', password: 'another password' }),
      409,
      'user_exists',
    );
    assertProblem(await ada.post('/v1/rooms', { name: 'general' }), 409, 'room_exists');
  });

  test('a missing, malformed, forged or expired token → 401', async () => {
    assertProblem(await server.api.get('/v1/me'), 401, 'unauthorized');
    assertProblem(await server.api.get('/v1/me', { authorization: 'Basic YWRhOnB3' }), 401, 'token_invalid');
    assertProblem(await server.api.as('not.a.jwt').get('/v1/me'), 401, 'token_invalid');
    const token = ada.token!;
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, adm: true })).toString('base64url')}.${s}`;
    assertProblem(await server.api.as(forged).get('/v1/me'), 401, 'token_invalid');
    const expired = await signWithServerKey(server, { sub: 'ada', exp: Math.floor(Date.now() / 1000) - 10 });
    assertProblem(await server.api.as(expired).get('/v1/me'), 401, 'token_expired');
  });

  test('wrong password and unknown user both → 401 bad_credentials', async () => {
    assertProblem(
      await server.api.post('/v1/tokens', { name: 'ada', password: 'wrong password' }),
      401,
      'bad_credentials',
    );
    assertProblem(
      await server.api.post('/v1/tokens', { name: 'nobody', password: 'whatever12' }),
      401,
      'bad_credentials',
    );
  });

  test('a password under 8 characters → 422 at registration', async () => {
    assertProblem(
      await server.api.post('/v1/users', { name: 'shorty', password: 'short' }),
      422,
      'validation_failed',
    );
  });

  test('after all of that the server still serves', async () => {
    const r = await ada.post('/v1/rooms/general/messages', { text: 'still here' });
    assert.equal(r.status, 201);
  });
});
