// SASL PLAIN over AUTHENTICATE (IRCv3 sasl-3.1/3.2): the client's base64 arrives in chunks of
// at most 400 bytes; a shorter chunk (or `+`) ends it. Pure: chunks in, credentials out.

/** The longest SASL payload accepted, base64 (a bearer token as the password fits easily). */
export const MAX_SASL_BYTES = 8192;

export interface PlainCredentials {
  readonly authzid: string;
  readonly authcid: string;
  readonly password: string;
}

export type SaslStep =
  | { readonly kind: 'more' }
  | { readonly kind: 'done'; readonly credentials: PlainCredentials }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'too_long' };

export class PlainExchange {
  #data = '';

  push(chunk: string): SaslStep {
    if (chunk !== '+') {
      if (this.#data.length + chunk.length > MAX_SASL_BYTES) return { kind: 'too_long' };
      this.#data += chunk;
      if (chunk.length === 400) return { kind: 'more' };
    }
    return decodePlain(this.#data);
  }
}

export function decodePlain(base64: string): SaslStep {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return { kind: 'invalid' };
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return { kind: 'invalid' };
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid === '' && authzid === '') return { kind: 'invalid' };
  return { kind: 'done', credentials: { authzid, authcid: authcid || authzid, password } };
}
