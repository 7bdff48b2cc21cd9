// The HTTP door: one fastify instance on a node's HTTP port, with the REST API, the operational
// endpoints and the API docs. Authentication and rate limits run before the body is read, so an
// anonymous or throttled client costs almost nothing.
import { createServer } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import Fastify, { type FastifyReply, LogController } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';
import type { Services } from '../../service/services.js';
import { refuseWith } from '../address-cap.js';
import type { Cors } from '../cors.js';
import type { App } from '../fastify-app.js';
import { rawProblem } from '../raw-problem.js';
import { type Admission, addAdmission } from './admission.js';
import { type Problem, problemOf, toProblem } from './problem.js';
import type { HttpDoorDeps } from './route-context.js';
import { accountRoutes } from './routes/accounts.js';
import { memberRoutes } from './routes/members.js';
import { messageRoutes } from './routes/messages.js';
import { SERVICE_INDEX, opsRoutes } from './routes/ops.js';
import { roomRoutes } from './routes/rooms.js';
import { doorRoutes } from './routes/doors.js';
import { socketRoutes } from './routes/sockets.js';
import { traceRoutes } from './routes/trace.js';
import { typingRoutes } from './routes/typing.js';
import { Problem as ProblemSchema } from './schemas.js';
import { BUNDLED_WEB_DIR, loadWebClient, webClientRoutes } from './web-client.js';

/**
 * The HTTP door, step by step: the fastify instance and its server, admission (token and rate
 * limit), CORS, durable reads, request metrics, error answers, the API docs, then the routes.
 */
export async function buildHttpApp(deps: HttpDoorDeps): Promise<App> {
  const app = createApp(deps);
  const admission = addAdmission(app, deps.config, deps.services);
  addCors(app, deps.cors);
  addDurableReads(app, deps.services);
  addRequestMetrics(app, deps.metrics);
  addErrorAnswers(app, deps.metrics, admission, deps.cors);
  await addDocs(app);
  await addRoutes(app, deps);
  return app;
}

/** The instance: its HTTP server (timeouts, the per-address cap), validators and body parsers. */
function createApp(deps: HttpDoorDeps): App {
  const { config, metrics } = deps;
  // Bodies are validated strictly (no coercion, unknown fields refused); query strings, path
  // parameters and headers are text on the wire, so those are coerced to their declared types.
  const strict = new Ajv({
    allErrors: true,
    removeAdditional: false,
    coerceTypes: false,
    useDefaults: true,
    strict: false,
  });
  const coercing = new Ajv({
    allErrors: true,
    removeAdditional: false,
    coerceTypes: true,
    useDefaults: true,
    strict: false,
  });
  for (const ajv of [strict, coercing]) ajv.addFormat('date-time', true);

  const app: App = Fastify({
    loggerInstance: deps.logger,
    // Per-request log lines cost more than the requests they describe; metrics count requests.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: true },
    serverFactory: (handler) => {
      const server = createServer(
        {
          headersTimeout: config.headersTimeout,
          requestTimeout: config.requestTimeout,
          keepAliveTimeout: config.keepAliveTimeout,
          // How often Node checks the two timeouts above; its 30 s default would let a slowloris
          // client hold a socket far longer than headersTimeout.
          connectionsCheckingInterval: Math.min(1000, Math.ceil(config.headersTimeout / 2)),
        },
        handler,
      );
      deps.cap.guard(server, (socket) => {
        metrics.connectionsRefused.labels('http').inc();
        refuseWith(socket, rawProblem('too_many_connections', undefined, { 'Retry-After': '1' }));
      });
      return server;
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
  app.decorateRequest('actor', null);
  app.decorateRequest('routeUrl', 'unmatched');
  app.addSchema(ProblemSchema);

  // Only JSON bodies exist in this API: a text/plain body is refused with 415, not parsed.
  app.removeContentTypeParser('text/plain');
  // PATCH bodies are JSON merge patches (RFC 7396); parse them exactly like JSON.
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );

  return app;
}

/** An allowed origin's page may read every answer, errors included (onSend runs for them all). */
function addCors(app: App, cors: Cors): void {
  // Preflights are answered by the not-found handler, as no route has OPTIONS.
  if (cors.enabled)
    app.addHook('onSend', (req, reply, payload, done) => {
      const headers = reply.hasHeader('access-control-allow-origin')
        ? undefined
        : cors.headersFor(req.headers.origin);
      if (headers) {
        const vary = reply.getHeader('vary');
        reply.headers({ ...headers, vary: vary === undefined ? 'Origin' : `${vary}, Origin` });
      }
      done(null, payload);
    });
}

function addDurableReads(app: App, services: Services): void {
  // An API read answers only with what survives a power loss: a message or version read between
  // its commit and its sync could otherwise come back, after one, under the same seq or ETag
  // with other content. Writes waited for their own sync already, which covers everything
  // before it. Probes, metrics and docs show no stored data and never wait on the disk.
  app.addHook('onSend', (req, reply, payload, done) => {
    // Problems are not waited for: they show no stored data, and the refusal below is one.
    const read =
      (req.method === 'GET' || req.method === 'HEAD') &&
      reply.statusCode < 400 &&
      req.routeUrl.startsWith('/v1/');
    const pending = read ? services.untilDurable() : undefined;
    if (!pending) return done(null, payload);
    pending.then(
      () => done(null, payload),
      (err: Error) => {
        // The validators described data that may be lost: they must not reach a cache.
        for (const name of ['etag', 'last-modified', 'cache-control', 'link']) reply.removeHeader(name);
        done(err); // `unavailable`, from the store
      },
    );
  });
}

function addRequestMetrics(app: App, metrics: Metrics): void {
  app.addHook('onResponse', (req, reply, done) => {
    metrics.httpRequest(req.method, req.routeUrl, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/** Every error as problem+json; unknown addresses as 404 or 405, and CORS preflights. */
function addErrorAnswers(app: App, metrics: Metrics, { limit, allowed }: Admission, cors: Cors): void {
  const sendProblem = (reply: FastifyReply, problem: Problem) => {
    metrics.errors.inc({ door: 'http', code: problem.code });
    return reply.code(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  };
  app.setErrorHandler((err, req, reply) => {
    const { problem, retryAfter, internal } = toProblem(err);
    if (internal) req.log.error({ err, url: req.url, method: req.method }, 'request failed');
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((req, reply) => {
    // Wrong addresses are throttled like anonymous requests, so probing costs the prober.
    limit(req, false);
    const path = req.url.split('?')[0]!;
    const methods = allowed.for(path);
    const origin = req.headers.origin;
    if (req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method']) {
      const preflight = cors.preflight(origin, methods);
      if (preflight) return reply.code(204).headers(preflight).send();
    }
    if (methods.length === 0) return sendProblem(reply, problemOf('not_found', `Nothing at ${path}.`));
    reply.header('allow', methods.join(', '));
    return sendProblem(
      reply,
      problemOf('method_not_allowed', `${path} answers ${methods.join(', ')}, not ${req.method}.`),
    );
  });
}

async function addDocs(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'porthouse',
        version: '1',
        description:
          'One chat server with a door for every layer of the network stack. Errors are `application/problem+json` with a stable `code`; every GET carries an ETag (If-None-Match → 304) and writes honour If-Match (412 when stale).',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
}

async function addRoutes(app: App, deps: HttpDoorDeps): Promise<void> {
  const { config, services } = deps;
  const web =
    config.web === 'off' ? undefined : loadWebClient(config.web === 'bundled' ? BUNDLED_WEB_DIR : config.web);
  if (config.web === 'bundled' && !web)
    deps.logger.warn('the web client is not built (npm run build makes dist/web); / answers JSON only');
  else if (config.web !== 'off' && !web) throw new Error(`--web ${config.web}: no index.html there`);
  await app.register(opsRoutes(deps, { root: web === undefined }));
  await app.register(accountRoutes(services));
  await app.register(roomRoutes(services));
  await app.register(memberRoutes(services));
  await app.register(messageRoutes(services, config));
  await app.register(typingRoutes(services, config));
  for (const routes of deps.routes ?? []) await app.register(routes);
  await app.register(socketRoutes(deps));
  await app.register(doorRoutes(deps));
  await app.register(traceRoutes(services));
  if (web) await app.register(webClientRoutes(web, SERVICE_INDEX));
}
