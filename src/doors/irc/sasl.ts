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
  /** One chunk longer than 400 bytes: the client does not split as the specification says. */
  | { readonly kind: 'chunk_too_long' }
  /** The payload passed MAX_SASL_BYTES: failed once; its later chunks are discarded. */
  | { readonly kind: 'too_long'; readonly ended: boolean }
  /** A chunk of a payload already refused as too long; `ended` with its last chunk. */
  | { readonly kind: 'discarding'; readonly ended: boolean };

/** Chunks are this long except the last (sasl-3.1). */
export const SASL_CHUNK_BYTES = 400;

export class PlainExchange {
  #data = '';
  #overflowed = false;

  /** One AUTHENTICATE parameter. */
  push(chunk: string): SaslStep {
    const last = chunk === '+' || chunk.length < SASL_CHUNK_BYTES;
    if (this.#overflowed) return { kind: 'discarding', ended: last };
    if (chunk.length > SASL_CHUNK_BYTES) return { kind: 'chunk_too_long' };
    if (chunk !== '+') {
      if (this.#data.length + chunk.length > MAX_SASL_BYTES) {
        this.#overflowed = true;
        this.#data = '';
        return { kind: 'too_long', ended: last };
      }
      this.#data += chunk;
      if (!last) return { kind: 'more' };
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
