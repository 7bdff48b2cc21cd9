// Cross-origin reads for a front end served from elsewhere (CORS): which origins may call the
// REST door and open SSE streams from a browser, and the preflight answer. Tokens travel in the
// Authorization header, never in cookies, so no credentials mode is needed and `*` is safe.
import { OriginList } from './origin-list.js';

/** Request headers a browser may send cross-origin, beyond the CORS-safelisted ones. */
const ALLOW_HEADERS = 'authorization, content-type, if-match, if-none-match, idempotency-key, last-event-id';
/** Response headers a cross-origin script may read (besides the safelisted ones). */
const EXPOSE_HEADERS = 'etag, link, location, retry-after';
/** Seconds a browser may cache a preflight answer (Chromium caps it at 7,200). */
const PREFLIGHT_MAX_AGE = 600;

export class Cors {
  readonly #origins: OriginList;

  /** `origins`: comma-separated (`https://chat.example`), `*` for any, empty for none. */
  constructor(origins: string) {
    this.#origins = new OriginList(origins);
  }

  get enabled(): boolean {
    return !this.#origins.empty;
  }

  /** The headers an answer to a request from `origin` carries; none for an origin not allowed. */
  headersFor(origin: string | undefined): Record<string, string> | undefined {
    if (origin === undefined || !this.#origins.allows(origin)) return undefined;
    return {
      'access-control-allow-origin': this.#origins.any ? '*' : origin,
      'access-control-expose-headers': EXPOSE_HEADERS,
      vary: 'Origin',
    };
  }

  /** The answer to a preflight (OPTIONS with Access-Control-Request-Method) for a path's methods. */
  preflight(origin: string, methods: string[]): Record<string, string> | undefined {
    const headers = this.headersFor(origin);
    if (!headers || methods.length === 0) return undefined;
    return {
      ...headers,
      'access-control-allow-methods': methods.join(', '),
      'access-control-allow-headers': ALLOW_HEADERS,
      'access-control-max-age': String(PREFLIGHT_MAX_AGE),
    };
  }
}
