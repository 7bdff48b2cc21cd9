// `porthouse send ROOM TEXT --via http`: post one message and print where it was stored.
// (--via ws is in realtime.ts.)
import { randomUUID } from 'node:crypto';
import { ApiError, RestClient } from '../client/rest.js';
import { UsageError, signedIn } from './args.js';

const RETRIES = 3;

export async function send(room: string, text: string, values: Record<string, unknown>): Promise<void> {
  const via = (values['via'] as string | undefined) ?? 'http';
  if (via !== 'http') throw new UsageError(`--via ${via} is not available yet; use --via http, ws or tcp`);
  const ctx = signedIn(values);
  const client = new RestClient({ server: ctx.server, token: ctx.token });
  // One key for every attempt: a retry after a lost response returns the stored message.
  const key = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      const message = await client.post(room, text, key);
      process.stdout.write(
        values['json'] ? `${JSON.stringify(message)}\n` : `sent to ${message.room} as #${message.seq}\n`,
      );
      return;
    } catch (err) {
      if (err instanceof ApiError || attempt >= RETRIES) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
