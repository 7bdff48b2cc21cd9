// Password hashes: scrypt with the OWASP minimum by default, parameters kept in the hash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, verifyNothing, verifyPassword } from '../../src/auth/password.js';
import { OPTIONS } from '../../src/config.js';

test('the default cost is scrypt N=2^17, r=8, p=1 (OWASP minimum)', async () => {
  assert.equal(OPTIONS.scryptCost.default, 17);
  const hash = await hashPassword('correct horse', 17);
  assert.match(hash, /^scrypt\$17\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
  assert.equal(await verifyPassword('correct horse', hash), true);
});

test('verifies the right password, refuses a wrong one, salts every hash', async () => {
  const a = await hashPassword('pässwörd 👋', 10);
  const b = await hashPassword('pässwörd 👋', 10);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword('pässwörd 👋', a), true);
  assert.equal(await verifyPassword('passwörd 👋', a), false);
  assert.equal(await verifyPassword('x', 'not-a-hash'), false);
});

test('verifyNothing spends the work of a real check and always fails', async () => {
  assert.equal(await verifyNothing('anything', 10), false);
});
