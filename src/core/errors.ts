// The one table of stable error codes. Every door maps from it: REST to problem+json, the frame
// doors to an `error` frame (and, where the error ends the connection, a close code). No door
// invents its own error text; docs/protocol.md lists this table and a test keeps them in step.

export interface ErrorSpec {
  /** HTTP status the REST door answers with. */
  readonly status: number;
  /** Short, stable, human title (problem+json `title`). */
  readonly title: string;
  /**
   * WebSocket close code when this error ends a connection. 4000–4099: the client may reconnect
   * (and resume with `since`); 4400–4499: terminal until the client changes something.
   */
  readonly close?: number;
}

export const ERRORS = {
  bad_request: { status: 400, title: 'The request is malformed.' },
  malformed_json: { status: 400, title: 'The body is not valid JSON.' },
  validation_failed: { status: 422, title: 'The request does not match its schema.' },
  unsupported_media_type: {
    status: 415,
    title: 'The body has a content type this endpoint does not accept.',
  },
  body_too_large: { status: 413, title: 'The body is larger than the limit.' },
  text_too_long: { status: 422, title: 'The text is longer than the limit.' },
  text_invalid: { status: 422, title: 'The text is empty or not well-formed Unicode.' },
  idempotency_key_reused: {
    status: 422,
    title: 'This Idempotency-Key was already used for a different message.',
  },
  unauthorized: { status: 401, title: 'A bearer token is required.', close: 4401 },
  token_invalid: { status: 401, title: 'The token is invalid.', close: 4401 },
  token_expired: { status: 401, title: 'The token has expired.', close: 4401 },
  rights_changed: {
    status: 401,
    title: "The user's rights changed; reconnect to go on with the rights they have now.",
    close: 4001,
  },
  bad_credentials: { status: 401, title: 'Wrong user name or password.' },
  forbidden: { status: 403, title: 'You may not do this.', close: 4403 },
  not_a_member: { status: 403, title: 'Only members of the room may do this.' },
  registration_closed: { status: 403, title: 'Registration is closed on this server.' },
  not_found: { status: 404, title: 'No such resource.' },
  room_not_found: { status: 404, title: 'No such room.' },
  user_not_found: { status: 404, title: 'No such user.' },
  member_not_found: { status: 404, title: 'No such member in this room.' },
  message_not_found: { status: 404, title: 'No such message.' },
  journey_not_found: {
    status: 404,
    title:
      'This node keeps no journey of that message (it is older than the ones kept, or passed through another node).',
  },
  unknown_frame: { status: 400, title: 'Unknown frame type.' },
  idle_timeout: {
    status: 408,
    title: 'Nothing was received for too long; the connection was closed.',
    close: 4000,
  },
  origin_forbidden: { status: 403, title: 'This Origin may not open a WebSocket here.' },
  frame_too_large: { status: 413, title: 'The frame is larger than the limit.', close: 1009 },
  too_many_subscriptions: { status: 429, title: 'Too many subscriptions on one connection.' },
  slow_consumer: {
    status: 503,
    title: 'The client read too slowly and was cut off; reconnect and resume with since.',
    close: 4008,
  },
  method_not_allowed: { status: 405, title: 'This method is not allowed here.' },
  user_exists: { status: 409, title: 'A user with this name already exists.' },
  room_exists: { status: 409, title: 'A room with this name already exists.' },
  message_deleted: { status: 409, title: 'The message was deleted and cannot be changed.' },
  user_owns_rooms: { status: 409, title: 'The user owns rooms; delete them first.' },
  owner_cannot_leave: {
    status: 409,
    title: 'The owner cannot leave the room, or be removed from it; delete the room instead.',
  },
  precondition_failed: { status: 412, title: 'The resource has changed since the given ETag.' },
  rate_limited: { status: 429, title: 'Too many requests; slow down.', close: 4429 },
  too_many_connections: {
    status: 429,
    title: 'Too many connections are open (from your address, or for your user); close one and try again.',
    close: 4429,
  },
  internal: { status: 500, title: 'Something went wrong on the server.', close: 1011 },
  unavailable: {
    status: 503,
    title: 'The server cannot take this now: it is not ready, shutting down, or its disk failed or is full.',
    close: 1001,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The detail of a `token_invalid` whose user was deleted: every door and the token check say it. */
export const USER_DELETED = 'The user of this token was deleted.';

/** The stable identifier of an error kind: problem+json `type` on every door that uses HTTP. */
export const errorTypeUri = (code: ErrorCode) => `urn:porthouse:error:${code}`;

export interface FieldError {
  /** JSON pointer into the request part, e.g. `/body/name`. */
  readonly path: string;
  readonly message: string;
}

/** A failure meant for a client: carries a stable code and never leaks internals. */
export class PorthouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields?: readonly FieldError[];
  /** Seconds until a retry may succeed (rate limits). */
  readonly retryAfter?: number;

  constructor(
    code: ErrorCode,
    detail?: string,
    extra: { fields?: readonly FieldError[]; retryAfter?: number } = {},
  ) {
    super(detail ?? ERRORS[code].title);
    this.name = 'PorthouseError';
    this.code = code;
    this.status = ERRORS[code].status;
    if (extra.fields) this.fields = extra.fields;
    if (extra.retryAfter !== undefined) this.retryAfter = extra.retryAfter;
  }
}

export function fail(
  code: ErrorCode,
  detail?: string,
  extra?: ConstructorParameters<typeof PorthouseError>[2],
): never {
  throw new PorthouseError(code, detail, extra);
}

export function isPorthouseError(err: unknown): err is PorthouseError {
  return err instanceof PorthouseError;
}
