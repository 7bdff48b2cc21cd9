// A problem+json HTTP response written straight to a socket, for refusals made before or beside
// the HTTP server (a WebSocket upgrade, a connection over the per-address cap).
import { STATUS_CODES } from 'node:http';
import { ERRORS, type ErrorCode, errorTypeUri } from '../core/errors.js';

export function rawProblem(code: ErrorCode, detail?: string, headers: Record<string, string> = {}): string {
  const spec = ERRORS[code];
  const body = JSON.stringify({
    type: errorTypeUri(code),
    title: spec.title,
    status: spec.status,
    detail: detail ?? spec.title,
    code,
  });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status] ?? 'Error'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;
}
