// The SSE door's one route: a room's events as text/event-stream, resumable by seq. It rides on
// the HTTP door's instance (its admission hook has checked the token and the rate limit).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../service/services.js';
import type { Cors } from '../cors.js';
import { ErrorResponse, type RoutePlugin, actorOf } from '../fastify-app.js';
import { EventsHeaders, EventsParams, EventsQuery } from './schemas.js';
import type { SseStreams } from './sse-streams.js';

export const eventRoutes =
  (s: Services, sse: SseStreams, cors: Cors): RoutePlugin =>
  async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/v1/rooms/:room/events',
      {
        config: { tokenInQuery: true },
        schema: {
          tags: ['events'],
          summary: 'Server-Sent Events: the room’s frames as they happen',
          description:
            '`event:` is the frame type (`subbed`, `msg`, `edit`, `del`, `presence`, `typing`, …; see docs/frames.md), `data:` the frame as JSON, `id:` the seq on messages. `subbed` carries the resume point as its `id:`. `Last-Event-ID` (sent by a reconnecting EventSource), `?lastEventId=` (polyfills) or `?since=` replays every message after that seq first, with no gap and no duplicate. Comment lines keep idle streams alive. Same visibility as the history: a private room is 404 to non-members.',
          params: EventsParams,
          querystring: EventsQuery,
          headers: EventsHeaders,
          response: {
            200: {
              description: 'An endless text/event-stream.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...ErrorResponse,
          },
        },
      },
      async (req, reply) => {
        const actor = actorOf(req);
        const { room } = req.params;
        // Authorize before taking the response over, so refusals are ordinary problem+json.
        await s.rooms.access(actor, room);
        const lastEventId = req.headers['last-event-id'];
        const since =
          lastEventId !== undefined ? Number(lastEventId) : (req.query.lastEventId ?? req.query.since);
        // HEAD: the stream's headers, after the same checks, without opening one (or joining
        // the room's presence).
        if (req.method === 'HEAD')
          return reply.type('text/event-stream; charset=utf-8').header('cache-control', 'no-store').send();
        reply.hijack();
        // Hijacked: the onSend hook that adds CORS headers never runs for the stream.
        await sse.open(reply.raw, actor, room, since, cors.headersFor(req.headers.origin));
      },
    );
  };
