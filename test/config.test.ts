// Configuration: one table, merged defaults < file < environment < flags, validated once.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  OPTIONS,
  checkServable,
  envOf,
  flagOf,
  loadConfig,
  renderConfigDoc,
} from '../src/config.js';
import { tempDir } from './support/server.js';

test('defaults match the contract: 127.0.0.1:8080, ./data, open registration, limits on', () => {
  const c = loadConfig();
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.data, './data');
  assert.equal(c.registration, true);
  assert.equal(c.rateLimits, true);
  assert.equal(c.bodyLimit, 65_536);
  assert.equal(c.maxTextLength, 4000);
  assert.ok(Object.isFrozen(c));
});

test('names flags and variables after the option', () => {
  assert.equal(flagOf('rateLimits'), 'rate-limits');
  assert.equal(envOf('rateLimits'), 'PORTHOUSE_RATE_LIMITS');
  assert.equal(envOf('jwksUrl'), 'PORTHOUSE_JWKS_URL');
});

test('a file, the environment and flags override in that order', () => {
  const dir = tempDir();
  const file = join(dir, 'porthouse.json');
  writeFileSync(file, JSON.stringify({ port: 1111, maxTextLength: 10, host: '0.0.0.0' }));
  const c = loadConfig({
    file,
    env: { PORTHOUSE_PORT: '2222', PORTHOUSE_MAX_TEXT_LENGTH: '20', PORTHOUSE_RATE_LIMITS: 'off' },
    flags: { port: '3333' },
  });
  assert.equal(c.port, 3333);
  assert.equal(c.maxTextLength, 20);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.rateLimits, false);
});

test('PORTHOUSE_NO_REGISTRATION and the --no-registration switch close registration', () => {
  assert.equal(loadConfig({ env: { PORTHOUSE_NO_REGISTRATION: '1' } }).registration, false);
  assert.equal(loadConfig({ flags: { registration: false } }).registration, false);
});

test('a bad value stops start-up with a message naming the option', () => {
  assert.throws(
    () => loadConfig({ env: { PORTHOUSE_PORT: 'eighty' } }),
    (e: unknown) => e instanceof ConfigError && /PORTHOUSE_PORT/.test(e.message),
  );
  assert.throws(() => loadConfig({ flags: { port: '70000' } }), /above the maximum 65535/);
  assert.throws(() => loadConfig({ flags: { rateLimits: 'maybe' } }), /on\/off/);
  assert.throws(() => loadConfig({ overrides: { nonsense: 1 } as never }), /unknown option/);
  const dir = tempDir();
  writeFileSync(join(dir, 'bad.json'), '{"port": 1, "colour": "blue"}');
  assert.throws(() => loadConfig({ file: join(dir, 'bad.json') }), /unknown option "colour"/);
});

test('a serving node checks the options that go together, and the files they name, before opening anything', () => {
  const dir = tempDir();
  const tlsHalf = loadConfig({ flags: { tcpTlsCert: join(dir, 'cert.pem') } });
  assert.throws(
    () => checkServable(tlsHalf),
    (e: unknown) => e instanceof ConfigError && /--tcp-tls-key \(PORTHOUSE_TCP_TLS_KEY\)/.test(e.message),
  );
  const noBuild = loadConfig({ flags: { web: dir } });
  assert.throws(
    () => checkServable(noBuild),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === `--web (PORTHOUSE_WEB): no index.html in ${dir} (a client build, bundled, or off)`,
  );
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  checkServable(loadConfig({ flags: { web: dir } })); // a directory holding a build is taken
  checkServable(loadConfig({})); // and the defaults
});

test('docs/config.md is generated from the table and up to date', () => {
  const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(doc.trim(), renderConfigDoc().trim(), 'run `npm run docs:config`');
  for (const name of Object.keys(OPTIONS)) assert.ok(doc.includes(envOf(name)), name);
});
