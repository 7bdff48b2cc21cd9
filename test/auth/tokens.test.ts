// Tokens refuse every kind of forgery, survive restarts, stop working when their user is
// deleted (even a verification already under way), and can come from an external identity
// server through a JWKS URL.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { startServer, tempDir, userApi } from '../support/server.js';
import { signWithServerKey } from '../support/tokens.js';

const now = () => Math.floor(Date.now() / 1000);

test('refuses expired, not-yet-valid, wrong-audience, wrong-issuer, subject-less and alg:none tokens', async (t) => {
  const server = await startServer(t);
  const code = async (token: string) => (await server.api.as(token).get('/v1/me')).body.code;
  assert.equal(await code(await signWithServerKey(server, { sub: 'ada', exp: now() - 5 })), 'token_expired');
  assert.equal(
    await code(await signWithServerKey(server, { sub: 'ada', exp: now() + 600, nbf: now() + 300 })),
    'token_invalid',
  );
  assert.equal(
    await code(await signWithServerKey(server, { sub: 'ada', exp: now() + 600 }, { aud: 'someone-else' })),
    'token_invalid',
  );
  assert.equal(
    await code(await signWithServerKey(server, { sub: 'ada', exp: now() + 600 }, { iss: 'evil' })),
    'token_invalid',
  );
  assert.equal(await code(await signWithServerKey(server, { exp: now() + 600 })), 'token_invalid');
  assert.equal(
    await code(await signWithServerKey(server, { sub: 'ada' })),
    'token_invalid',
    'a token must expire',
  );
  assert.equal(
    await code(await signWithServerKey(server, { sub: 'Not A Name', exp: now() + 600 })),
    'token_invalid',
  );
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(
    JSON.stringify({ sub: 'ada', adm: true, exp: now() + 600, iss: 'porthouse', aud: 'porthouse' }),
  ).toString('base64url');
  assert.equal(await code(`${header}.${body}.`), 'token_invalid');
  await userApi(server, 'ada');
  const good = await signWithServerKey(server, { sub: 'ada', exp: now() + 600 });
  assert.equal((await server.api.as(good).get('/v1/me')).status, 200, 'the same key with good claims works');
  // Signed right, but for a user this server does not have.
  const nobody = await signWithServerKey(server, { sub: 'nobody', exp: now() + 600 });
  assert.equal(await code(nobody), 'token_invalid');
});

test('refuses an HS256 token keyed with the public key (algorithm confusion)', async (t) => {
  const server = await startServer(t);
  const jwks = (await server.api.get('/.well-known/jwks.json')).body as {
    keys: { x: string; kid: string }[];
  };
  const secret = Buffer.from(jwks.keys[0]!.x, 'base64url');
  const forged = await new SignJWT({ sub: 'ada', adm: true })
    .setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0]!.kid })
    .setIssuer('porthouse')
    .setAudience('porthouse')
    .setExpirationTime('1h')
    .sign(secret);
  assert.equal((await server.api.as(forged).get('/v1/me')).body.code, 'token_invalid');
});

test('a token stays valid across a restart (the key is kept with the data)', async (t) => {
  const dir = tempDir();
  const first = await startServer(undefined, { data: dir });
  const ada = await userApi(first, 'ada');
  await first.stop();
  const second = await startServer(t, { data: dir });
  const me = await second.api.as(ada.token).get('/v1/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.name, 'ada');
});

test('accepts tokens from an external identity server published as a JWKS', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const idp = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => idp.close(r)));
  const { port } = idp.address() as AddressInfo;
  const server = await startServer(t, { jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
  const external = (claims: Record<string, unknown>, kid = 'idp-1') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer('porthouse')
      .setAudience('porthouse')
      .setExpirationTime('5m')
      .setSubject('carol')
      .sign(privateKey);
  const carol = server.api.as(await external({}));
  assert.deepEqual((await carol.get('/v1/me')).body, { name: 'carol', admin: false });
  const room = await carol.post('/v1/rooms', { name: 'from-idp' });
  assert.equal(room.status, 201, 'an external user needs no local account to use the API');
  assert.equal(
    (await carol.put('/v1/rooms/from-idp/members/dave')).status,
    201,
    'and may invite other external users',
  );
  assert.equal(
    (await server.api.as(await external({}, 'unknown-kid')).get('/v1/me')).body.code,
    'token_invalid',
  );
  const { privateKey: otherKey } = await generateKeyPair('ES256');
  const wrong = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
    .setIssuer('porthouse')
    .setAudience('porthouse')
    .setExpirationTime('5m')
    .setSubject('carol')
    .sign(otherKey);
  assert.equal((await server.api.as(wrong).get('/v1/me')).body.code, 'token_invalid');
});

/**
 * Tokens over a real store whose user look-ups are held until `release()`, and a token of `ada`
 * (admin or not): a verification started now is still reading the user when the test changes them.
 */
async function verificationHeldAtLookup(admin: boolean) {
  const { SqliteStore } = await import('../../src/store/store-sqlite.js');
  const { Tokens } = await import('../../src/auth/tokens.js');
  const store = new SqliteStore({ dir: ':memory:', synchronous: 'full', maxBatch: 1 });
  const ada = await store.createUser({ name: 'ada', passwordHash: null, admin });
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  // Only what Tokens uses of a store: its key, and the user look-up (held at the gate).
  const slow = {
    settingOrInit: (key: string, init: () => string) => store.settingOrInit(key, init),
    getUser: async (name: string) => {
      const user = await store.getUser(name);
      await gate;
      return user;
    },
  } as unknown as typeof store;
  const tokens = await Tokens.open(slow, { issuer: 'porthouse', audience: 'porthouse', ttl: 600 });
  const { token } = await tokens.issue({ name: 'ada', admin }, ada.createdAt);
  const verifying = tokens.verify(token);
  await new Promise((r) => setTimeout(r, 20));
  return { store, tokens, token, verifying, release };
}

test('a verification under way when its user is deleted refuses the token instead of caching it', async () => {
  const { store, tokens, token, verifying, release } = await verificationHeldAtLookup(false);
  await store.deleteUser('ada');
  tokens.forget('ada');
  release();
  await assert.rejects(verifying, { code: 'token_invalid' });
  await assert.rejects(tokens.verify(token), { code: 'token_invalid' }, 'and nothing was cached');
  await store.close();
});

test('a verification under way when its user loses the admin right reads them again: the token works, without the right', async () => {
  const { store, tokens, token, verifying, release } = await verificationHeldAtLookup(true);
  await store.setAdmin('ada', false);
  tokens.forget('ada', 'changed');
  release();
  assert.deepEqual({ ...(await verifying) }, { name: 'ada', admin: false });
  assert.deepEqual({ ...(await tokens.verify(token)) }, { name: 'ada', admin: false }, 'and that was cached');
  await store.close();
});
