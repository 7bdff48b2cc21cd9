// Turns whatever went wrong into one sentence a person can act on, by the server's stable codes.
import { ApiError } from '../../src/client/rest.js';

const BY_CODE: Record<string, string> = {
  bad_credentials: 'Wrong name or password.',
  user_exists: 'That name is taken: pick another, or sign in.',
  room_exists: 'That room name is taken.',
  registration_closed: 'Registration is closed on this server.',
  rate_limited: 'Too fast: wait a moment and try again.',
  not_a_member: 'Join the room first.',
  forbidden: 'You are not allowed to do that here.',
  room_not_found: 'That room does not exist (any more).',
  user_not_found: 'No such user.',
  message_not_found: 'That message does not exist.',
  message_deleted: 'That message was deleted.',
  journey_not_found:
    'This server keeps no journey of that message: it is older than the ones kept, or went through another node.',
  owner_cannot_leave: 'The owner cannot leave their room.',
  precondition_failed: 'Someone changed this meanwhile: reload and try again.',
  text_too_long: 'The message is too long.',
  text_invalid: 'The message has characters that cannot be sent.',
  token_expired: 'Your session has expired: sign in again.',
  token_invalid: 'Your session is not valid: sign in again.',
  unauthorized: 'Sign in first.',
  unavailable: 'The server is not ready: try again in a moment.',
  closed: 'Not connected to the server.',
  timeout: 'No answer from the server in time.',
};

export function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; name?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code !== undefined && BY_CODE[code]) return BY_CODE[code];
  // fetch rejects with a TypeError when nothing answers, and an AbortSignal timeout with these.
  if (err instanceof TypeError || e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return 'The server is unreachable: check your connection and try again.';
  if (err instanceof ApiError || code !== undefined)
    return typeof e?.message === 'string' && e.message ? e.message : `Failed (${code}).`;
  return 'Something went wrong: try again.';
}
