// GET /v1/doors: which doors this node listens on, so a client that found the HTTP port (a
// browser, the CLI) can find the others. Open and cacheable: it is what a port scan would say.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { hashTag, sendCached } from '../caching.js';
import type { HttpDoorDeps } from '../route-context.js';
import { DoorList } from '../schemas.js';

export const doorRoutes = (deps: HttpDoorDeps) => async (fastify: FastifyInstance) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/doors',
    {
      config: { auth: false },
      schema: {
        tags: ['operations'],
        summary: 'The doors of this node: transport, port and TLS of each',
        description:
          'Every door this node listens on, at the host the client used: REST, WebSocket and SSE on the HTTP port (with their paths), TCP and UDP on their shared port number, IRC (and IRC over TLS) where enabled. No credentials needed: the same as a port scan would find.',
        response: { 200: DoorList },
      },
    },
    async (req, reply) => {
      const body = { doors: deps.doors() };
      return sendCached(req, reply, hashTag(body), body, 'public, max-age=60');
    },
  );
};
