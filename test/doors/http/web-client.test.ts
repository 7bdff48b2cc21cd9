// The browser client as served: HTML to browsers at / with a strict CSP, JSON to everyone else,
// hashed assets cached for good, revalidation with 304, and no inline script in the page.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer, tempDir } from '../../support/server.js';

test('/ gives browsers the client page under a strict Content-Security-Policy, and scripts the JSON index', async (t) => {
  const server = await startServer(t);
  const page = await server.api.req('GET', '/', { headers: { accept: 'text/html,*/*' } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /^text\/html/);
  const csp = page.headers.get('content-security-policy')!;
  for (const directive of [
    "default-src 'self'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ])
    assert.ok(csp.includes(directive), `CSP has ${directive}`);
  assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), 'no unsafe-* in the CSP');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const html = page.body as string;
  assert.match(html, /<script type="module" crossorigin src="\/assets\/[^"]+\.js"><\/script>/);
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), 'no inline <script> (the CSP would block it)');
  assert.ok(!/\sstyle=|<style/.test(html), 'no inline style');
  assert.match(page.headers.get('vary')!, /Accept/);

  const index = await server.api.get('/');
  assert.equal(index.status, 200);
  assert.equal((index.body as { api: string }).api, '/v1', 'curl / still finds the API');

  const again = await server.api.req('GET', '/', {
    headers: { accept: 'text/html', 'if-none-match': page.headers.get('etag')! },
  });
  assert.equal(again.status, 304);

  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
  const asset = await server.api.get(script);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type')!, /^text\/javascript/);
  assert.match(asset.headers.get('cache-control')!, /immutable/);
  assert.equal((await server.api.get('/assets/nope.js')).status, 404);
});

test('--web off serves no page; --web DIR serves that build; a DIR without index.html fails the start', async (t) => {
  const off = await startServer(t, { web: 'off' });
  const r = await off.api.req('GET', '/', { headers: { accept: 'text/html' } });
  assert.match(r.headers.get('content-type')!, /json/, 'only the JSON index');
  const dir = tempDir();
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>mine</title>');
  const own = await startServer(t, { web: dir });
  const mine = await own.api.req('GET', '/', { headers: { accept: 'text/html' } });
  assert.equal(mine.body, '<!doctype html><title>mine</title>');
  await assert.rejects(startServer(t, { web: join(dir, 'assets') }), /no index\.html/);
});
