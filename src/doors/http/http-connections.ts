// The HTTP door's open connections: which have a request in flight and which were upgraded, so
// that /v1/sockets can list them and a graceful stop can close the ones doing nothing at once.
// Node's own closeIdleConnections() skips a connection that has not finished its first request
// line, so a client that connected and said nothing would hold a stop for the whole deadline.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export class HttpConnections {
  readonly #open = new Set<Socket>();
  /** Requests in flight per socket (one at a time in HTTP/1.1, but counted to be safe). */
  readonly #busy = new Map<Socket, number>();
  readonly #upgraded = new WeakSet<Socket>();
  #closing = false;

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.#open.add(socket);
      socket.once('close', () => {
        this.#open.delete(socket);
        this.#busy.delete(socket);
      });
    });
    server.on('request', (req, res) => {
      const socket = req.socket;
      this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
      res.once('close', () => {
        const left = (this.#busy.get(socket) ?? 1) - 1;
        if (left > 0) this.#busy.set(socket, left);
        else {
          this.#busy.delete(socket);
          // Stopping: the answer is out, so the keep-alive connection is not kept.
          if (this.#closing) endSoon(socket);
        }
      });
    });
    // Upgraded sockets belong to the WebSocket door from then on; it closes them with 1001.
    server.prependListener('upgrade', (req) => this.#upgraded.add(req.socket));
  }

  /** Every open connection, upgraded or not. */
  sockets(): Iterable<Socket> {
    return this.#open;
  }

  /**
   * For a stop: destroys every connection with no request in flight that was not upgraded, and
   * ends the others as soon as their answer is out. Returns how many were closed at once.
   */
  closeIdle(): number {
    this.#closing = true;
    let closed = 0;
    for (const s of this.#open)
      if (!this.#busy.has(s) && !this.#upgraded.has(s)) {
        s.destroy();
        closed++;
      }
    return closed;
  }
}

/** Half-close after what is queued is written; a peer that never closes its side is cut after 1 s. */
function endSoon(socket: Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), 1000).unref();
}
