// Typing notices over plain HTTP, for clients that read a room through SSE and write through
// REST: the same notice a `typing` frame sends, with the same per-sender allowance.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../../config.js';
import { fail } from '../../../core/errors.js';
import type { Services } from '../../../service/services.js';
import { actorOf } from '../../fastify-app.js';
import { ErrorResponse, RoomParams } from '../schemas.js';

export const typingRoutes = (s: Services, config: Config) => async (fastify: FastifyInstance) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // Per user rather than per connection (REST has none); shared by every node with Redis.
  const allowance = s.limiter('typing', {
    ratePerSecond: config.typingPerSecond,
    burst: config.typingPerSecond,
  });

  app.post(
    '/v1/rooms/:room/typing',
    {
      schema: {
        tags: ['messages'],
        summary: 'Say you are typing in a room: a `typing` event to its subscribers, never stored',
        description:
          'Limited to `typingPerSecond` per user (429 `rate_limited`); needs the right to post there.',
        params: RoomParams,
        response: { 204: Type.Null(), ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      if (config.rateLimits) {
        const decision = await allowance.take(`u:${actor.name}`, Date.now());
        if (!decision.ok)
          fail('rate_limited', `Try again in ${decision.retryAfter} s.`, { retryAfter: decision.retryAfter });
      }
      await s.messages.typing(actor, req.params.room);
      return reply.code(204).send(null);
    },
  );
};
