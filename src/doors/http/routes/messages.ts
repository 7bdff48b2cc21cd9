// Messages: history pages (cursor by seq, Link headers), post (with Idempotency-Key), read, edit,
// delete (tombstone).
import { Journey, preciseNow } from '../../../core/journey.js';
import { httpRequestBytes, ingress } from '../../wire-bytes.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../../config.js';
import { type Actor, type MessageRecord, publicMessage } from '../../../core/types.js';
import type { Precondition } from '../../../service/access.js';
import type { Services } from '../../../service/services.js';
import { actorOf } from '../../fastify-app.js';
import { fresh, ifMatch, sendCached, tag } from '../caching.js';
import {
  ErrorResponse,
  HistoryQuery,
  IdempotencyHeaders,
  Message,
  MessageEdit,
  MessageParams,
  NewMessage,
  RoomParams,
} from '../schemas.js';

const messageTag = (roomId: number) => (m: MessageRecord) => tag('s', roomId, m.seq, m.version);

export const messageRoutes = (s: Services, config: Config) => async (fastify: FastifyInstance) => {
  /** An edit or delete of one message: If-Match against its ETag, the new ETag on the answer. */
  const conditionalWrite = async (
    req: FastifyRequest,
    reply: FastifyReply,
    roomName: string,
    write: (actor: Actor, check: Precondition<MessageRecord> | undefined) => Promise<MessageRecord>,
  ) => {
    const actor = actorOf(req);
    const { room } = await s.rooms.access(actor, roomName);
    const etagOf = messageTag(room.id);
    const written = await write(actor, ifMatch(req, etagOf));
    reply.header('etag', etagOf(written));
    return publicMessage(written);
  };

  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['messages'];

  app.get(
    '/v1/rooms/:room/messages',
    {
      schema: {
        tags,
        summary: 'A page of history, ascending by seq; `after`, `before`, neither (the latest page)',
        description:
          'Link headers point at the older page (`rel="prev"`) and the newer one (`rel="next"`) when they exist.',
        params: RoomParams,
        querystring: HistoryQuery,
        response: { 200: Type.Array(Message), ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const { room } = await s.rooms.access(actorOf(req), req.params.room);
      // The page is a function of the room's message version and the query, so a cached copy is
      // confirmed without reading a single message.
      if (fresh(req, reply, tag('h', room.id, room.messagesVersion))) return reply.code(304).send();
      const { after, before } = req.query;
      const limit = req.query.limit ?? config.historyPageSize;
      const page = await s.messages.history(room, { after, before, limit });
      const links: string[] = [];
      const base = `/v1/rooms/${room.name}/messages`;
      const first = page[0];
      const last = page[page.length - 1];
      if (first && first.seq > 1) links.push(`<${base}?before=${first.seq}&limit=${limit}>; rel="prev"`);
      if (last && last.seq < room.lastSeq)
        links.push(`<${base}?after=${last.seq}&limit=${limit}>; rel="next"`);
      if (links.length > 0) reply.header('link', links.join(', '));
      return page.map(publicMessage);
    },
  );

  app.post(
    '/v1/rooms/:room/messages',
    {
      schema: {
        tags,
        summary:
          'Post a message (members); 201 when stored, 200 when an Idempotency-Key matched an earlier post',
        params: RoomParams,
        headers: IdempotencyHeaders,
        body: NewMessage,
        response: { 200: Message, 201: Message, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const { room } = req.params;
      const key = req.headers['idempotency-key'];
      const journey = s.journeys.enabled
        ? new Journey(
            room,
            ingress(
              'http',
              httpRequestBytes(req.raw, Number(req.headers['content-length'] ?? 0)),
              'HTTP request line, header lines, blank line, JSON body',
              // From when the request arrived, not from when its handler ran.
              preciseNow() - reply.elapsedTime,
            ),
          )
        : undefined;
      const { message, created } = await s.messages.post(actorOf(req), room, req.body.text, 'http', {
        idempotencyKey: key,
        journey,
      });
      reply.code(created ? 201 : 200).header('location', `/v1/rooms/${room}/messages/${message.seq}`);
      // The answer is the acknowledgement.
      journey?.mark('acked');
      return publicMessage(message);
    },
  );

  app.get(
    '/v1/rooms/:room/messages/:seq',
    {
      schema: {
        tags,
        summary: 'Read one message (a tombstone if deleted)',
        params: MessageParams,
        response: { 200: Message, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const { room, message } = await s.messages.get(actorOf(req), req.params.room, req.params.seq);
      return sendCached(req, reply, messageTag(room.id)(message), publicMessage(message));
    },
  );

  app.patch(
    '/v1/rooms/:room/messages/:seq',
    {
      schema: {
        tags,
        summary: 'Edit your own message; application/merge-patch+json',
        params: MessageParams,
        body: MessageEdit,
        response: { 200: Message, ...ErrorResponse },
      },
    },
    (req, reply) =>
      conditionalWrite(req, reply, req.params.room, (actor, check) =>
        s.messages.edit(actor, req.params.room, req.params.seq, req.body.text, check),
      ),
  );

  app.delete(
    '/v1/rooms/:room/messages/:seq',
    {
      schema: {
        tags,
        summary: 'Delete a message (its author or the room owner); leaves a tombstone that keeps the seq',
        params: MessageParams,
        response: { 200: Message, ...ErrorResponse },
      },
    },
    (req, reply) =>
      conditionalWrite(req, reply, req.params.room, (actor, check) =>
        s.messages.delete(actor, req.params.room, req.params.seq, check),
      ),
  );
};
