// Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document and the
// public signing key (so another service can verify porthouse tokens).
import type { FastifyInstance } from 'fastify';
import { fail } from '../../../core/errors.js';
import type { HttpDoorDeps } from '../route-context.js';
import { hashTag, sendCached } from '../caching.js';

const open = { auth: false } as const;
const hidden = { hide: true } as const;

/** What `/` answers a client that does not ask for HTML (curl, scripts). */
export const SERVICE_INDEX = {
  name: 'porthouse',
  api: '/v1',
  docs: '/docs',
  openapi: '/openapi.json',
  health: '/healthz',
};

export const opsRoutes = (deps: HttpDoorDeps, options: { root: boolean }) => async (app: FastifyInstance) => {
  if (options.root)
    app.get('/', { config: open, schema: hidden }, async (req, reply) =>
      sendCached(req, reply, hashTag(SERVICE_INDEX), SERVICE_INDEX, 'public, max-age=60'),
    );

  app.get('/healthz', { config: open, schema: hidden }, async (req, reply) => {
    const body = { status: 'ok' };
    return sendCached(req, reply, hashTag(body), body, 'no-cache');
  });

  app.get('/readyz', { config: open, schema: hidden }, async (req, reply) => {
    if (!(await deps.ready()))
      fail('unavailable', 'The node is not ready: the store is unreachable or the node is stopping.');
    const body = { status: 'ready' };
    return sendCached(req, reply, hashTag(body), body, 'no-cache');
  });

  app.get('/metrics', { config: open, schema: hidden }, async (req, reply) => {
    const text = await deps.metrics.registry.metrics();
    reply.type(deps.metrics.registry.contentType);
    return sendCached(req, reply, hashTag(text), text, 'no-store');
  });

  app.get('/openapi.json', { config: open, schema: hidden }, async (req, reply) => {
    const doc = app.swagger();
    return sendCached(req, reply, hashTag(doc), doc, 'public, max-age=300');
  });

  app.get('/.well-known/jwks.json', { config: open, schema: hidden }, async (req, reply) => {
    const jwks = deps.services.tokens.publicJwks();
    return sendCached(req, reply, hashTag(jwks), jwks, 'public, max-age=300');
  });
};
