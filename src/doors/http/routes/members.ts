// Members: list, read one, join or invite (PUT), leave or remove (DELETE).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Member as MemberValue } from '../../../core/types.js';
import type { Services } from '../../../service/services.js';
import { actorOf } from '../../fastify-app.js';
import { hashTag, ifMatch, sendCached, tag } from '../caching.js';
import { ErrorResponse, Member, MemberParams, RoomParams } from '../schemas.js';

const memberTag = (m: MemberValue) => hashTag(m);

export const memberRoutes = (s: Services) => async (fastify: FastifyInstance) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['members'];

  app.get(
    '/v1/rooms/:room/members',
    {
      schema: {
        tags,
        summary: "A room's members",
        params: RoomParams,
        response: { 200: Type.Array(Member), ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const { room, members } = await s.rooms.members(actorOf(req), req.params.room);
      return sendCached(req, reply, tag('m', room.id, room.membersVersion), members);
    },
  );

  app.get(
    '/v1/rooms/:room/members/:user',
    {
      schema: {
        tags,
        summary: 'One membership',
        params: MemberParams,
        response: { 200: Member, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const { member } = await s.rooms.member(actorOf(req), req.params.room, req.params.user);
      return sendCached(req, reply, memberTag(member), member);
    },
  );

  app.put(
    '/v1/rooms/:room/members/:user',
    {
      schema: {
        tags,
        summary:
          'Join a public room (yourself) or invite a user (members); 201 when new, 200 when already a member',
        params: MemberParams,
        response: { 200: Member, 201: Member, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const { room, user } = req.params;
      const { member, created } = await s.rooms.addMember(actorOf(req), room, user, ifMatch(req, memberTag));
      if (created) reply.code(201).header('location', `/v1/rooms/${room}/members/${user}`);
      reply.header('etag', memberTag(member));
      return member;
    },
  );

  app.delete(
    '/v1/rooms/:room/members/:user',
    {
      schema: {
        tags,
        summary: 'Leave a room (yourself) or remove a member (owner)',
        params: MemberParams,
        response: { 204: Type.Null(), ...ErrorResponse },
      },
    },
    async (req, reply) => {
      await s.rooms.removeMember(actorOf(req), req.params.room, req.params.user, ifMatch(req, memberTag));
      return reply.code(204).send(null);
    },
  );
};
