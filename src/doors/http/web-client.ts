// Serves the browser client (a static build under dist/web) at `/`. The files are read once at
// start and answered from memory with an ETag, so the page costs no disk I/O and revalidates
// with 304. Every page carries a strict Content-Security-Policy: the client needs no inline
// script or style, and message text is never HTML.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { hashTag, sendCached } from './caching.js';

/** Where `npm ci` (prepare → build) puts the client: dist/web beside dist/src. */
export const BUNDLED_WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Same-origin everything; `ws:`/`wss:` because CSP's 'self' does not cover WebSocket schemes in
 * every browser; no framing (clickjacking); no plugins; no <base> tricks.
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface WebFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  /** Vite names assets by content hash: those never change under their name. */
  readonly immutable: boolean;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Loads a client build; undefined when the directory holds none (no index.html). */
export function loadWebClient(dir: string): Map<string, WebFile> | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, WebFile>();
  for (const path of walk(dir)) {
    const url = `/${relative(dir, path).split(sep).join('/')}`;
    const body = readFileSync(path);
    files.set(url, {
      body,
      type: TYPES[extname(path)] ?? 'application/octet-stream',
      etag: `"w${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: url.startsWith('/assets/'),
    });
  }
  return files;
}

/** `index` is what `/` answers clients that do not accept HTML, so `curl /` still finds the API. */
export const webClientRoutes =
  (files: Map<string, WebFile>, index: object) => async (app: FastifyInstance) => {
    const indexTag = hashTag(index);
    for (const [url, file] of files) {
      const handler = (req: Parameters<typeof sendCached>[0], reply: Parameters<typeof sendCached>[1]) => {
        reply.type(file.type);
        reply.header('x-content-type-options', 'nosniff');
        if (file.type.startsWith('text/html')) {
          reply.header('content-security-policy', WEB_CSP);
          reply.header('referrer-policy', 'no-referrer');
        }
        const cache = file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache';
        return sendCached(req, reply, file.etag, file.body, cache);
      };
      const schema = { hide: true };
      app.get(url, { schema, config: { auth: false } }, handler);
      if (url === '/index.html')
        app.get('/', { schema, config: { auth: false } }, (req, reply) => {
          reply.header('vary', 'Accept');
          if (req.headers.accept?.includes('text/html')) return handler(req, reply);
          return sendCached(req, reply, indexTag, index, 'public, max-age=60');
        });
    }
  };
