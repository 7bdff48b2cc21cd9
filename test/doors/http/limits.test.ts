// Limits that protect everyone else: per-client rate limits (429 + Retry-After) and the
// slowloris timeouts on headers and whole requests.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startServer, userApi } from '../../support/server.js';

test('too many requests from one user → 429 rate_limited with Retry-After; other users are unaffected', async (t) => {
  const server = await startServer(t, {
    rateLimits: true,
    rateRequestsPerSecond: 1,
    rateRequestsBurst: 5,
    rateLoginsPerMinute: 100,
  });
  const ada = await userApi(server, 'ada');
  const bob = await userApi(server, 'bob');
  const statuses = [];
  for (let i = 0; i < 8; i++) statuses.push((await ada.get('/v1/me')).status);
  assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
  const limited = await ada.get('/v1/me');
  assert.equal(limited.status, 429);
  assert.equal(limited.body.code, 'rate_limited');
  assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal((await bob.get('/v1/me')).status, 200, 'limits are per client');
});

test('anonymous requests, to real routes and to wrong addresses alike, are limited per address', async (t) => {
  const server = await startServer(t, { rateLimits: true, rateRequestsPerSecond: 1, rateRequestsBurst: 3 });
  const statuses = [];
  for (let i = 0; i < 2; i++) statuses.push((await server.api.get('/nowhere')).status);
  for (let i = 0; i < 3; i++) statuses.push((await server.api.get('/v1/rooms')).status);
  assert.deepEqual(statuses, [404, 404, 401, 429, 429]);
});

test('password guessing from one address is throttled per minute', async (t) => {
  const server = await startServer(t, { rateLimits: true, rateLoginsPerMinute: 3 });
  const statuses = [];
  for (let i = 0; i < 5; i++)
    statuses.push((await server.api.post('/v1/tokens', { name: 'ada', password: `guess${i}xx` })).status);
  assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
});

test('--rate-limits off lifts every limit', async (t) => {
  const server = await startServer(t, { rateLimits: false, rateRequestsPerSecond: 1, rateRequestsBurst: 1 });
  const ada = await userApi(server, 'ada');
  for (let i = 0; i < 20; i++) assert.equal((await ada.get('/v1/me')).status, 200);
});

/** Open a raw socket and send `chunks` one by one, `gapMs` apart; resolve when the server closes it. */
function dribble(
  url: string,
  chunks: string[],
  gapMs: number,
): Promise<{ closedAfterMs: number; response: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname);
    let response = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < chunks.length && !socket.destroyed) socket.write(chunks[i++]!);
    }, gapMs);
    socket.on('data', (d) => {
      response += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - started, response });
    });
  });
}

test('slowloris: a client dribbling headers is cut off at headersTimeout while others are served', async (t) => {
  const server = await startServer(t, { headersTimeout: 1000, requestTimeout: 2000 });
  const header = 'GET /healthz HTTP/1.1\r\nHost: x\r\n'.split('');
  const slow = dribble(server.url, header.concat(Array(200).fill('X-Slow: 1\r\n')), 100);
  const ok = await server.api.get('/healthz');
  assert.equal(ok.status, 200, 'others are served meanwhile');
  const { closedAfterMs, response } = await slow;
  assert.ok(closedAfterMs < 5000, `held for ${closedAfterMs} ms`);
  assert.match(response, /^HTTP\/1\.1 408|^$/, 'answered 408 or simply closed');
});

test('slowloris: a client dribbling a body is cut off at requestTimeout', async (t) => {
  const server = await startServer(t, { headersTimeout: 1000, requestTimeout: 1500 });
  const head =
    'POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
  const { closedAfterMs } = await dribble(server.url, [head, ...Array(100).fill('{')], 200);
  assert.ok(closedAfterMs < 6000, `held for ${closedAfterMs} ms`);
});
