// The fastify instance the doors carried by HTTP register their routes on (REST under
// doors/http, the event stream under doors/sse): its type, the request fields the HTTP door's
// admission hook sets, the per-route settings it reads, and the caller of an authenticated route.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { fail } from '../core/errors.js';
import type { Actor } from '../core/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the bearer token speaks for; null on routes that need no token. */
    actor: Actor | null;
    /** The route's pattern (/v1/rooms/:room), or 'unmatched': the metrics label. */
    routeUrl: string;
  }
  interface FastifyContextConfig {
    /** false: the route needs no token (log-in, registration, health). */
    auth?: boolean;
    /** 'login': the stricter per-address limit against password guessing. */
    limit?: 'login';
    /** The token may come as `?access_token=` (EventSource cannot send headers). */
    tokenInQuery?: boolean;
  }
}

export type App = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Routes another door adds to the HTTP door's instance (registered like fastify plugins). */
export type RoutePlugin = (app: FastifyInstance) => Promise<void>;

/** The actor of a route that requires authentication (the onRequest hook guarantees it). */
export const actorOf = (req: { actor: Actor | null }): Actor => req.actor ?? fail('unauthorized');

/** Every route's error answer: the `Problem` schema the HTTP door registers. */
export const ErrorResponse = {
  default: { $ref: 'Problem#', description: 'An error, as problem+json.' },
} as const;
