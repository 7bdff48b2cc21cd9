// Conditional requests (RFC 9110): every GET carries an ETag and answers a matching
// If-None-Match with 304; writes honour If-Match with 412. ETags are built from versions the
// store keeps, so a 304 costs a room look-up, not a query and a serialization.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../../core/errors.js';
import type { Precondition } from '../../service/access.js';

/** Per-user resources: any cache may keep them for this user only, and must revalidate. */
const PRIVATE = 'private, no-cache';

/** A strong ETag from version parts, e.g. tag('r', 12, 3) → "r12-3". */
export const tag = (kind: string, ...parts: (string | number)[]): string => `"${kind}${parts.join('-')}"`;

/** A strong ETag from a representation, for resources without a version of their own. */
export const hashTag = (body: unknown): string =>
  `"x${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 27)}"`;

function matches(header: string, current: string, weak: boolean): boolean {
  if (header.trim() === '*') return true;
  for (const raw of header.split(',')) {
    let candidate = raw.trim();
    if (candidate.startsWith('W/')) {
      if (!weak) continue;
      candidate = candidate.slice(2);
    }
    if (candidate === current) return true;
  }
  return false;
}

/** Set the caching headers; true when the client's copy is current (answer 304). */
export function fresh(
  req: FastifyRequest,
  reply: FastifyReply,
  etag: string,
  cacheControl = PRIVATE,
): boolean {
  const vary = reply.getHeader('vary');
  reply
    .header('etag', etag)
    .header('cache-control', cacheControl)
    .header('vary', vary === undefined ? 'Authorization' : `${vary}, Authorization`);
  const header = req.headers['if-none-match'];
  return header !== undefined && matches(header, etag, true);
}

/** Answer a GET: 304 when the client's copy is current, else the body with its ETag. */
export function sendCached(
  req: FastifyRequest,
  reply: FastifyReply,
  etag: string,
  body: unknown,
  cacheControl = PRIVATE,
) {
  if (fresh(req, reply, etag, cacheControl)) return reply.code(304).send();
  return reply.send(body);
}

/**
 * The If-Match check for a write, or undefined when the request has none. `undefined` as the
 * current value means the resource does not exist, which no If-Match matches (not even `*`).
 */
export function ifMatch<T>(
  req: FastifyRequest,
  etagOf: (current: T) => string,
): Precondition<T | undefined> | undefined {
  const header = req.headers['if-match'];
  if (header === undefined) return undefined;
  return (current) => {
    if (current === undefined || !matches(header, etagOf(current), false)) fail('precondition_failed');
  };
}
