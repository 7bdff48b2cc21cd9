// Rooms: list, create, read, replace (PUT), merge-patch (PATCH), delete.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type RoomRecord, publicRoom, roomSummary } from '../../../core/types.js';
import type { Services } from '../../../service/services.js';
import { actorOf } from '../../fastify-app.js';
import { hashTag, ifMatch, sendCached, tag } from '../caching.js';
import {
  ErrorResponse,
  NewRoom,
  Room,
  RoomParams,
  RoomPatch,
  RoomReplacement,
  RoomSummary,
} from '../schemas.js';
import { Type } from '@sinclair/typebox';

/** Changes only with the room's own fields (see RoomSummary for why lastSeq is not among them). */
export const roomTag = (r: RoomRecord) => tag('r', r.id, r.version);

export const roomRoutes = (s: Services) => async (fastify: FastifyInstance) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['rooms'];

  app.get(
    '/v1/rooms',
    {
      schema: {
        tags,
        summary: 'Rooms you can see: every public room and your private ones',
        response: { 200: Type.Array(RoomSummary), ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const rooms = (await s.rooms.list(actorOf(req))).map(roomSummary);
      return sendCached(req, reply, hashTag(rooms), rooms);
    },
  );

  app.post(
    '/v1/rooms',
    {
      schema: {
        tags,
        summary: 'Create a room (you become its owner)',
        body: NewRoom,
        response: { 201: Room, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const room = await s.rooms.create(actorOf(req), req.body);
      reply.code(201).header('location', `/v1/rooms/${room.name}`).header('etag', roomTag(room));
      return publicRoom(room);
    },
  );

  app.get(
    '/v1/rooms/:room',
    {
      schema: { tags, summary: 'Read a room', params: RoomParams, response: { 200: Room, ...ErrorResponse } },
    },
    async (req, reply) => {
      const { room } = await s.rooms.access(actorOf(req), req.params.room);
      return sendCached(req, reply, roomTag(room), publicRoom(room));
    },
  );

  app.put(
    '/v1/rooms/:room',
    {
      schema: {
        tags,
        summary: "Replace a room's fields (owner)",
        params: RoomParams,
        body: RoomReplacement,
        response: { 200: Room, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const { title, topic } = req.body;
      const fields = { title, topic, private: req.body.private };
      const room = await s.rooms.replace(actorOf(req), req.params.room, fields, ifMatch(req, roomTag));
      reply.header('etag', roomTag(room));
      return publicRoom(room);
    },
  );

  app.patch(
    '/v1/rooms/:room',
    {
      schema: {
        tags,
        summary: 'Change some fields of a room (owner); application/merge-patch+json',
        params: RoomParams,
        body: RoomPatch,
        response: { 200: Room, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const room = await s.rooms.patch(actorOf(req), req.params.room, req.body, ifMatch(req, roomTag));
      reply.header('etag', roomTag(room));
      return publicRoom(room);
    },
  );

  app.delete(
    '/v1/rooms/:room',
    {
      schema: {
        tags,
        summary: 'Delete a room with its history (owner)',
        params: RoomParams,
        response: { 204: Type.Null(), ...ErrorResponse },
      },
    },
    async (req, reply) => {
      await s.rooms.delete(actorOf(req), req.params.room, ifMatch(req, roomTag));
      return reply.code(204).send(null);
    },
  );
};
