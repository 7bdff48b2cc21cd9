// Accounts: register, log in, who am I, a user's public profile.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../service/services.js';
import { actorOf } from '../../fastify-app.js';
import { hashTag, ifMatch, sendCached } from '../caching.js';
import { Type } from '@sinclair/typebox';
import {
  Credentials,
  ErrorResponse,
  Me,
  Registration,
  Token,
  User,
  UserParams,
  UserPatch,
} from '../schemas.js';

export const accountRoutes = (s: Services) => async (fastify: FastifyInstance) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['accounts'];

  app.post(
    '/v1/users',
    {
      config: { auth: false, limit: 'login' },
      schema: {
        tags,
        summary: 'Register a user',
        security: [],
        body: Registration,
        response: { 201: User, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const user = await s.accounts.register(req.body.name, req.body.password);
      reply.code(201).header('location', `/v1/users/${user.name}`).header('etag', hashTag(user));
      return user;
    },
  );

  app.post(
    '/v1/tokens',
    {
      config: { auth: false, limit: 'login' },
      schema: {
        tags,
        summary: 'Log in: exchange a password for a bearer token',
        security: [],
        body: Credentials,
        response: { 201: Token, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const token = await s.accounts.login(req.body.name, req.body.password);
      reply.code(201).header('location', '/v1/me').header('cache-control', 'no-store');
      return token;
    },
  );

  app.get(
    '/v1/me',
    { schema: { tags, summary: 'Who the token belongs to', response: { 200: Me, ...ErrorResponse } } },
    async (req, reply) => {
      const actor = actorOf(req);
      const me = { name: actor.name, admin: actor.admin };
      return sendCached(req, reply, hashTag(me), me);
    },
  );

  app.delete(
    '/v1/users/:user',
    {
      schema: {
        tags,
        summary:
          'Delete a user (themselves, or any user for an admin): memberships go, messages stay, their tokens stop working and their connections end; 409 user_owns_rooms while they own rooms',
        params: UserParams,
        response: { 204: Type.Null(), ...ErrorResponse },
      },
    },
    async (req, reply) => {
      await s.accounts.delete(actorOf(req), req.params.user, ifMatch(req, hashTag));
      return reply.code(204).send(null);
    },
  );

  app.patch(
    '/v1/users/:user',
    {
      schema: {
        tags,
        summary:
          "Grant or take away a user's admin right (admins only, not their own). Taken away, it ends at once on every node: their tokens no longer carry it and their WebSocket, TCP and SSE connections close with rights_changed; granted, it comes with their next token",
        params: UserParams,
        body: UserPatch,
        response: { 200: User, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const user = await s.accounts.setAdmin(
        actorOf(req),
        req.params.user,
        req.body.admin,
        ifMatch(req, hashTag),
      );
      reply.header('etag', hashTag(user));
      return user;
    },
  );

  app.get(
    '/v1/users/:user',
    {
      schema: {
        tags,
        summary: "A user's public profile",
        params: UserParams,
        response: { 200: User, ...ErrorResponse },
      },
    },
    async (req, reply) => {
      const user = await s.accounts.get(req.params.user);
      return sendCached(req, reply, hashTag(user), user);
    },
  );
};
