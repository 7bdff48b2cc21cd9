// CORS: a front end served from an allowed origin may call the REST door and open SSE streams
// from a browser; other origins get no CORS headers, so the browser keeps their pages out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';
import { openSse } from '../../support/sse.js';

const APP = 'https://chat.example';

test('a preflight from an allowed origin is answered with the path’s methods and the headers the API reads', async (t) => {
  const server = await startServer(t, { corsOrigins: `${APP}, https://other.example` });
  const res = await fetch(`${server.url}/v1/rooms/r/messages`, {
    method: 'OPTIONS',
    headers: {
      origin: APP,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), APP);
  assert.deepEqual(res.headers.get('access-control-allow-methods')?.split(', ').sort(), [
    'GET',
    'HEAD',
    'POST',
  ]);
  for (const h of ['authorization', 'content-type', 'idempotency-key', 'if-match', 'last-event-id'])
    assert.ok(res.headers.get('access-control-allow-headers')?.includes(h), h);
  assert.ok(Number(res.headers.get('access-control-max-age')) > 0);
  const elsewhere = await fetch(`${server.url}/v1/rooms/r/messages`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  assert.equal(elsewhere.status, 405);
});

test('answers to an allowed origin, errors included, carry its CORS headers; others carry none', async (t) => {
  const server = await startServer(t, { corsOrigins: APP });
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const auth = { authorization: `Bearer ${ada.token}` };
  const ok = await fetch(`${server.url}/v1/rooms/r/messages`, { headers: { ...auth, origin: APP } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), APP);
  assert.ok(ok.headers.get('access-control-expose-headers')?.includes('etag'));
  assert.match(ok.headers.get('vary') ?? '', /Origin/);
  assert.match(ok.headers.get('vary') ?? '', /Authorization/, 'the caching layer’s Vary is kept');
  const refused = await fetch(`${server.url}/v1/rooms/nowhere`, { headers: { ...auth, origin: APP } });
  assert.equal(refused.status, 404);
  assert.equal(refused.headers.get('access-control-allow-origin'), APP);
  const evil = await fetch(`${server.url}/v1/rooms/r/messages`, {
    headers: { ...auth, origin: 'https://evil.example' },
  });
  assert.equal(evil.headers.get('access-control-allow-origin'), null);
  const stream = await openSse(`${server.url}/v1/rooms/r/events`, { ...auth, origin: APP });
  t.after(() => stream.close());
  assert.equal(stream.headers.get('access-control-allow-origin'), APP);
  await stream.next((e) => e.event === 'subbed');
});

test('without corsOrigins (the default) nothing is shared cross-origin', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  const res = await fetch(`${server.url}/v1/rooms`, {
    headers: { authorization: `Bearer ${ada.token}`, origin: APP },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  const preflight = await fetch(`${server.url}/v1/rooms`, {
    method: 'OPTIONS',
    headers: { origin: APP, 'access-control-request-method': 'POST' },
  });
  assert.equal(preflight.headers.get('access-control-allow-origin'), null);
});

test('corsOrigins=* lets any page read, with no credentials involved', async (t) => {
  const server = await startServer(t, { corsOrigins: '*' });
  const res = await fetch(`${server.url}/healthz`, { headers: { origin: 'https://anywhere.example' } });
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.equal(res.headers.get('access-control-allow-credentials'), null);
});
