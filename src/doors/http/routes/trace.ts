// GET /v1/rooms/:room/messages/:seq/trace: a message's journey on this node (members of the
// room, and admins), from the node's bounded journey log.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { fail } from '../../../core/errors.js';
import { journeyView } from '../../../core/journey.js';
import type { Services } from '../../../service/services.js';
import { actorOf } from '../../fastify-app.js';
import { ErrorResponse, MessageParams, Trace } from '../schemas.js';

export const traceRoutes = (s: Services) => async (fastify: FastifyInstance) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/rooms/:room/messages/:seq/trace',
    {
      schema: {
        tags: ['messages'],
        summary:
          "A message's journey on this node: its bytes on the wire, each stage's time, its fan-out per door",
        params: MessageParams,
        response: { 200: Trace, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const { room, seq } = req.params;
      const { room: record, facts } = await s.rooms.access(actor, room);
      if (facts.role === undefined && !actor.admin)
        fail('not_a_member', 'Only members of the room see its journeys.');
      const journey = s.journeys.get(room, seq);
      if (!journey) {
        if (seq > record.lastSeq) fail('message_not_found');
        fail('journey_not_found');
      }
      // A journey goes on filling while its fan-out is written: never cached.
      reply.header('cache-control', 'no-store');
      return journeyView(journey);
    },
  );
};
