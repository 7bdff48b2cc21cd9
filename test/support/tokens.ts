// Token fixtures: sign arbitrary claims with a test server's own key (read from its store), to
// build expired, not-yet-valid or otherwise crafted tokens the server would never issue.
import { createPrivateKey } from 'node:crypto';
import { type JWTPayload, SignJWT } from 'jose';
import type { PorthouseServer } from '../../src/server.js';

export async function serverKey(server: PorthouseServer) {
  const jwk = JSON.parse(await server.store.settingOrInit('token_signing_key', () => 'unused'));
  return {
    kid: jwk.kid as string,
    key: createPrivateKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }, format: 'jwk' }),
  };
}

export async function signWithServerKey(
  server: PorthouseServer,
  claims: JWTPayload,
  options: { iss?: string; aud?: string; kid?: string } = {},
): Promise<string> {
  const { kid, key } = await serverKey(server);
  const jwt = new SignJWT({ iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: options.kid ?? kid })
    .setIssuer(options.iss ?? 'porthouse')
    .setAudience(options.aud ?? 'porthouse');
  return jwt.sign(key);
}
