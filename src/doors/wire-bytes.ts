// What one message costs on the wire at each door, framing included: the HTTP request line,
// headers and body; a WebSocket frame's header and mask; a TCP or IRC line and its ending; a
// UDP datagram and the UDP and IP headers in front of it. Pure arithmetic, for journeys.
import type { IncomingMessage } from 'node:http';
import { type JourneyIngress, preciseNow } from '../core/journey.js';

/** Bytes of a WebSocket frame carrying `payload` bytes: 2, +2 or +8 for the length, +4 when masked. */
export function wsFrameBytes(payload: number, masked: boolean): number {
  return 2 + (payload < 126 ? 0 : payload < 65_536 ? 2 : 8) + (masked ? 4 : 0) + payload;
}

/** The request as it came: request line, each header line, the blank line, then the body. */
export function httpRequestBytes(req: IncomingMessage, bodyBytes: number): number {
  let bytes = Buffer.byteLength(`${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`) + 2;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2)
    bytes += Buffer.byteLength(raw[i]!) + 2 + Buffer.byteLength(raw[i + 1]!) + 2;
  return bytes + bodyBytes;
}

/** IPv4's header without options, IPv6's fixed header, and UDP's own. */
export const IPV4_HEADER = 20;
export const IPV6_HEADER = 40;
export const UDP_HEADER = 8;

export const ingress = (
  door: string,
  wireBytes: number,
  framing: string,
  receivedAt = preciseNow(),
): JourneyIngress => ({
  door,
  wireBytes,
  framing,
  receivedAt,
});
