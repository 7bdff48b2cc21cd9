// The HTTP door's admission: every route's onRequest hook — whether it needs a bearer token,
// where the token may come from, and which rate limit it spends.
import type { FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import type { Config } from '../../config.js';
import { fail } from '../../core/errors.js';
import type { RateDecision } from '../../core/rate-limiter.js';
import type { Services } from '../../service/services.js';
import type { App } from '../fastify-app.js';
import { AllowedMethods } from './allowed-methods.js';

export interface Admission {
  /** Spend one request of the caller's allowance: throws when refused at once, or returns a promise. */
  readonly limit: (req: FastifyRequest, login: boolean) => Promise<void> | undefined;
  /** The methods each route pattern answers (405 and CORS preflights). */
  readonly allowed: AllowedMethods;
}

export function addAdmission(app: App, config: Config, services: Services): Admission {
  // With Redis these buckets are shared by every node (a client cannot multiply its allowance
  // by spreading over nodes); otherwise they live in this process.
  const requests = services.limiter('requests', {
    ratePerSecond: config.rateRequestsPerSecond,
    burst: config.rateRequestsBurst,
  });
  const logins = services.limiter('logins', {
    ratePerSecond: config.rateLoginsPerMinute / 60,
    burst: config.rateLoginsPerMinute,
  });

  const refuse = (decision: RateDecision) => {
    if (!decision.ok)
      fail('rate_limited', `Try again in ${decision.retryAfter} s.`, { retryAfter: decision.retryAfter });
  };
  /** Spend one request of the caller's allowance: throws when refused at once, or returns a promise. */
  const limit = (req: FastifyRequest, login: boolean): Promise<void> | undefined => {
    if (!config.rateLimits) return undefined;
    const now = Date.now();
    const decision = login
      ? logins.take(`a:${req.ip}`, now)
      : requests.take(req.actor ? `u:${req.actor.name}` : `a:${req.ip}`, now);
    if (decision instanceof Promise) return decision.then(refuse);
    refuse(decision);
    return undefined;
  };
  /** `next` once the limit allows it; a refusal (now or later) goes to `done`. */
  const limitThen = (
    req: FastifyRequest,
    login: boolean,
    done: HookHandlerDoneFunction,
    next: () => void,
  ) => {
    const pending = limit(req, login);
    if (!pending) return next();
    pending.then(() => {
      try {
        next();
      } catch (err) {
        done(err as Error);
      }
    }, done);
  };
  // One onRequest hook per route, decided when the route is added: whether it needs a token and
  // which limit applies are facts of the route, not of each request. Callback style, so a token
  // verified before costs no promise: that is nearly every request.
  const admit =
    (url: string, needsToken: boolean, login: boolean, tokenInQuery: boolean): onRequestHookHandler =>
    (req, _reply, done) => {
      req.routeUrl = url;
      if (!needsToken) return limitThen(req, login, done, done);
      let header = req.headers.authorization;
      if (header === undefined && tokenInQuery) {
        const fromQuery = (req.query as Record<string, unknown> | undefined)?.['access_token'];
        if (typeof fromQuery === 'string') header = `Bearer ${fromQuery}`;
      }
      const token = header === undefined ? undefined : /^Bearer +([!-~]+)$/i.exec(header)?.[1];
      const known = token === undefined ? undefined : services.tokens.verifiedBefore(token);
      if (known) {
        req.actor = known;
        return limitThen(req, login, done, done);
      }
      // Until a token is verified the client is anonymous: it spends its address's allowance,
      // so a flood of made-up tokens cannot buy signature checks for free.
      limitThen(req, login, done, () => {
        if (header === undefined) fail('unauthorized');
        if (token === undefined) fail('token_invalid', 'The Authorization header must be "Bearer <token>".');
        services.tokens.verify(token).then((actor) => {
          req.actor = actor;
          done();
        }, done);
      });
    };
  const allowed = new AllowedMethods();
  app.addHook('onRoute', (route) => {
    allowed.add(route.url, route.method);
    // Everything under /v1 needs a token unless its route says otherwise; docs and probes do not.
    const needsToken = route.config?.auth !== false && route.url.startsWith('/v1/');
    const hook = admit(
      route.url,
      needsToken,
      route.config?.limit === 'login',
      route.config?.tokenInQuery === true,
    );
    route.onRequest = [hook, ...(route.onRequest ? [route.onRequest].flat() : [])];
  });

  return { limit, allowed };
}
