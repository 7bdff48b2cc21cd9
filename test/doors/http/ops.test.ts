// Operational endpoints and the OpenAPI document generated from the route schemas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';
import { connectWs } from '../../support/ws.js';

test('healthz and readyz answer while the store is up', async (t) => {
  const server = await startServer(t);
  assert.equal((await server.api.get('/healthz')).status, 200);
  assert.deepEqual((await server.api.get('/readyz')).body, { status: 'ready' });
});

test('/openapi.json is OpenAPI 3.1 and documents every REST route with its schemas', async (t) => {
  const server = await startServer(t);
  const r = await server.api.get('/openapi.json');
  assert.equal(r.status, 200);
  const doc = r.body as { openapi: string; paths: Record<string, Record<string, any>> };
  assert.equal(doc.openapi, '3.1.0');
  const expected: Record<string, string[]> = {
    '/v1/users': ['post'],
    '/v1/tokens': ['post'],
    '/v1/me': ['get'],
    '/v1/rooms': ['get', 'post'],
    '/v1/rooms/{room}': ['get', 'put', 'patch', 'delete'],
    '/v1/rooms/{room}/members': ['get'],
    '/v1/rooms/{room}/members/{user}': ['get', 'put', 'delete'],
    '/v1/rooms/{room}/messages': ['get', 'post'],
    '/v1/rooms/{room}/messages/{seq}': ['get', 'patch', 'delete'],
  };
  for (const [path, methods] of Object.entries(expected)) {
    for (const m of methods) assert.ok(doc.paths[path]?.[m], `${m.toUpperCase()} ${path} is documented`);
  }
  const post = doc.paths['/v1/rooms/{room}/messages']!['post'];
  assert.ok(
    post.requestBody.content['application/json'].schema.properties.text,
    'request bodies come from the schemas',
  );
  assert.ok(post.responses['201'], 'and so do responses');
  assert.ok(post.parameters.some((p: { name: string }) => p.name === 'idempotency-key'));
  const docs = await server.api.get('/docs/');
  assert.equal(docs.status, 200);
  assert.match(String(docs.body), /swagger/i, '/docs is a browsable API page');
});

test('/metrics counts requests, errors and stored messages in Prometheus format', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'm' });
  await ada.post('/v1/rooms/m/messages', { text: 'counted' });
  await ada.get('/v1/rooms/nope');
  await ada.get('/nowhere/at/all');
  const text = String((await server.api.get('/metrics')).body);
  assert.match(text, /porthouse_messages_stored_total\{via="http"\} 1/);
  assert.match(
    text,
    /porthouse_http_requests_total\{method="POST",route="\/v1\/rooms\/:room\/messages",status="201"\} 1/,
  );
  assert.match(text, /porthouse_errors_total\{door="http",code="room_not_found"\} 1/);
  // Unknown paths share one label, so a scanner cannot blow up the number of series.
  assert.match(text, /porthouse_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
  assert.match(text, /porthouse_store_commit_batch_size_count \d+/);
  // Every write above waited for a WAL fdatasync (the default), and each wait was measured.
  const syncs = Number(/porthouse_store_sync_wait_seconds_count (\d+)/.exec(text)?.[1]);
  assert.ok(syncs >= 3, `user, room and message each waited for a sync (${syncs})`);
  assert.match(text, /porthouse_http_request_duration_seconds_bucket/);
  // The frame doors count per door; a frame client shows up in them.
  const ws = await connectWs(server.url, { token: ada.token! });
  ws.send({ type: 'ping', ref: 1 });
  await ws.next((f) => f.type === 'pong');
  const after = String((await server.api.get('/metrics')).body);
  ws.close();
  assert.match(after, /porthouse_realtime_connections\{door="ws"\} 1/);
  assert.match(after, /porthouse_frames_received_total\{door="ws"\} 1/);
  assert.match(after, /porthouse_frames_sent_total\{door="ws"\} [2-9]/); // ready, pong
  assert.match(after, /porthouse_realtime_bytes_sent_total\{door="ws"\} [1-9]/);
  // ready and pong were written apart (a turn each): two writes, at most one per frame.
  const writes = Number(/porthouse_realtime_writes_total\{door="ws"\} (\d+)/.exec(after)?.[1]);
  const frames = Number(/porthouse_frames_sent_total\{door="ws"\} (\d+)/.exec(after)?.[1]);
  assert.ok(writes >= 1 && writes <= frames, `${writes} writes for ${frames} frames`);
  assert.match(text, /porthouse_store_statements_total 0/, 'SQLite sends no statements over a network');
  assert.match(text, /porthouse_bus_rooms_following 0/);
});

test('every GET carries an ETag and Cache-Control, and answers If-None-Match with 304', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'cached' });
  await ada.post('/v1/rooms/cached/messages', { text: 'one' });
  const paths = [
    '/v1/me',
    '/v1/users/ada',
    '/v1/rooms',
    '/v1/rooms/cached',
    '/v1/rooms/cached/members',
    '/v1/rooms/cached/members/ada',
    '/v1/rooms/cached/messages',
    '/v1/rooms/cached/messages/1',
    '/healthz',
    '/openapi.json',
  ];
  for (const path of paths) {
    const first = await ada.get(path);
    assert.equal(first.status, 200, path);
    const etag = first.headers.get('etag');
    assert.match(etag ?? '', /^"[^"]+"$/, `${path} has a strong ETag`);
    assert.ok(first.headers.get('cache-control'), `${path} has Cache-Control`);
    const second = await ada.get(path, { 'if-none-match': etag! });
    assert.equal(second.status, 304, `${path} revalidates to 304`);
  }
});

test('ETags change when the resource does, and only then', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'tags' });
  const room1 = (await ada.get('/v1/rooms/tags')).headers.get('etag');
  const hist1 = (await ada.get('/v1/rooms/tags/messages')).headers.get('etag');
  await ada.post('/v1/rooms/tags/messages', { text: 'new' });
  assert.equal(
    (await ada.get('/v1/rooms/tags')).headers.get('etag'),
    room1,
    'a message does not change the room',
  );
  assert.notEqual(
    (await ada.get('/v1/rooms/tags/messages')).headers.get('etag'),
    hist1,
    'but changes the history',
  );
  const patched = await ada.patch('/v1/rooms/tags', { topic: 't' });
  assert.notEqual(patched.headers.get('etag'), room1);
  assert.equal(
    (await ada.get('/v1/rooms/tags')).headers.get('etag'),
    patched.headers.get('etag'),
    'writes return the new ETag',
  );
});
