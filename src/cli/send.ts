// `porthouse send ROOM TEXT --via http`: post one message and print where it was stored.
// (--via ws is in realtime.ts.)
import { ApiError, RestClient } from '../client/rest.js';
import { UsageError, signedIn } from './args.js';
import { print } from './print.js';

const RETRIES = 3;

export async function send(room: string, text: string, values: Record<string, unknown>): Promise<void> {
  const via = (values['via'] as string | undefined) ?? 'http';
  if (via !== 'http') throw new UsageError(`--via ${via} is not available yet; use --via http, ws or tcp`);
  const ctx = signedIn(values);
  const client = new RestClient({ server: ctx.server, token: ctx.token });
  // A retry after a lost response returns the stored message; a refusal is final.
  const message = await client.postRetrying(room, text, (err, attempt) =>
    err instanceof ApiError || attempt >= RETRIES ? undefined : 200 * attempt,
  );
  print(values, message, `sent to ${message.room} as #${message.seq}`);
}
