// GET /v1/sockets (admin): every live socket of every door on this node, as five-tuples.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { fail } from '../../../core/errors.js';
import type { HttpDoorDeps } from '../route-context.js';
import { actorOf } from '../../fastify-app.js';
import { ErrorResponse, SocketList } from '../schemas.js';

export const socketRoutes = (deps: HttpDoorDeps) => async (fastify: FastifyInstance) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/sockets',
    {
      schema: {
        tags: ['operations'],
        summary: 'Admin: every live socket of every door on this node, as five-tuples',
        description:
          "A socket is named by (protocol, local address, local port, remote address, remote port): (TCP, 7070) and (UDP, 7070) are different sockets. Listening sockets first, then connections with their door, user, rooms, bytes and start time, and the kernel's view (`transport`: TCP_INFO's round-trip time, congestion window, retransmits, bytes in flight and queues; a UDP socket's queues and drops; null where the platform cannot say). Not cached by HTTP: it changes all the time; the kernel's view is read at most once per kernelStateTtl.",
        response: { 200: SocketList, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      if (!actorOf(req).admin) fail('forbidden', 'Only admins may list sockets.');
      reply.header('cache-control', 'no-store');
      return { sockets: await deps.sockets() };
    },
  );
};
