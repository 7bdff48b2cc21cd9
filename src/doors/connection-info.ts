// What a stream door (WebSocket, SSE, TCP) reports about one live connection: its five-tuple
// and counters, for GET /v1/sockets. One shape, so the listing reads every door the same way.
import type { Socket } from 'node:net';

export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly user: string | undefined;
  readonly rooms: string[];
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Bytes queued for the client and not yet taken by the kernel. */
  readonly unsent: number;
  readonly since: string;
}

export function describeConnection(
  socket: Socket | null | undefined,
  who: { user: string | undefined; rooms: string[]; unsent: number; since: string },
): ConnectionInfo {
  return {
    remoteAddress: socket?.remoteAddress ?? '',
    remotePort: socket?.remotePort ?? 0,
    localAddress: socket?.localAddress ?? '',
    localPort: socket?.localPort ?? 0,
    bytesIn: socket?.bytesRead ?? 0,
    bytesOut: socket?.bytesWritten ?? 0,
    ...who,
  };
}
