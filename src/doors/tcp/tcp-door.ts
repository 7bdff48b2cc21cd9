// The TCP door: a byte stream framed as one JSON frame per line (UTF-8, `\n`), the WebSocket
// door's frames through the same Conversation and hub, so `nc` can join a room. Optional TLS.
// First frame `auth` within a deadline; idle connections are closed; slow readers cut off.
import { ingress } from '../wire-bytes.js';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Config } from '../../config.js';
import { ERRORS, type ErrorCode } from '../../core/errors.js';
import type { Hub } from '../../hub/hub.js';
import { Outgoing } from '../../hub/outgoing.js';
import type { DoorMetrics, Metrics } from '../../metrics/metrics.js';
import { Conversation, type Transport, conversationOptions } from '../conversation.js';
import type { Services } from '../../service/services.js';
import { type AddressCap, refuseWith } from '../address-cap.js';
import { type ConnectionInfo, describeConnection } from '../connection-info.js';
import { CLOSE_WAIT_MS, Outbox } from '../outbox.js';
import { LineSplitter } from '../line-splitter.js';

export interface TcpDoorDeps {
  readonly config: Config;
  /** Open connections per client address, shared with the HTTP door. */
  readonly cap: AddressCap;
  readonly services: Services;
  readonly hub: Hub;
  readonly metrics: Metrics;
  /** Where failures that are not the client's doing are logged. */
  readonly logger?: Logger;
}

const encodeLine = (out: Outgoing) => Buffer.from(`${out.json}\n`);

class TcpConnection implements Transport {
  readonly conversation: Conversation;
  readonly since = new Date().toISOString();
  readonly #outbox: Outbox;
  readonly #lines: LineSplitter;
  #closing = false;

  constructor(
    readonly socket: Socket,
    private readonly door: TcpDoor,
  ) {
    const { config, services, hub, metrics } = door.deps;
    this.#outbox = new Outbox(socket, {
      door: 'tcp',
      limit: config.sendBufferLimit,
      onOverflow: () => {
        door.metrics.slowConsumers.inc();
        this.close('slow_consumer');
      },
      onWrite: (bytes, frames) => {
        door.metrics.bytesOut.inc(bytes);
        door.metrics.writes.inc();
        door.metrics.framesSent.inc(frames);
      },
    });
    this.#lines = new LineSplitter(config.tcpMaxLine);
    this.conversation = new Conversation(
      this,
      services,
      hub,
      conversationOptions(config, 'tcp', { metrics, logger: door.deps.logger }),
    );
  }

  /** Bytes from the socket: whole lines go to the conversation. */
  receive(chunk: Buffer): void {
    for (const event of this.#lines.push(chunk)) {
      if (this.#closing) return;
      if (event.kind === 'line') {
        if (event.text.trim() === '') continue; // blank lines (a stray Enter in nc) are not frames
        this.door.metrics.framesReceived.inc();
        this.conversation.receive(event.text, () =>
          ingress('tcp', event.bytes, 'one JSON line and its newline'),
        );
      } else if (event.kind === 'invalid_utf8') {
        this.conversation.refuse('bad_request', 'A line must be UTF-8.');
      } else {
        this.close('frame_too_large', `A line may be at most ${this.door.deps.config.tcpMaxLine} bytes.`);
        return;
      }
    }
  }

  get closing(): boolean {
    return this.#closing;
  }

  send(out: Outgoing): void {
    if (!this.#closing) this.#outbox.push(out.encoded('tcp', encodeLine), out.journey);
  }

  drained(): Promise<void> | undefined {
    return this.#outbox.drained();
  }

  /** A last `error` line when there is a reason not yet told, then the end of the stream. */
  close(code: ErrorCode | 'normal', message?: string, told = false): void {
    if (this.#closing) return;
    if (code !== 'normal' && code !== 'slow_consumer' && !told) {
      this.door.deps.metrics.errors.inc({ door: 'tcp', code });
      this.#outbox.push(
        encodeLine(new Outgoing({ type: 'error', code, message: message ?? ERRORS[code].title })),
      );
    }
    this.#closing = true;
    // Out of the hub at once: a connection in its close grace is not online, follows nothing and
    // does not count against the per-user cap while it reads its last bytes.
    this.conversation.closed();
    this.#outbox.flush();
    const slow = code === 'slow_consumer';
    // The outbox refuses more once overflowed; the reason goes after what the reader has not
    // taken yet, so it is the last line it reads.
    if (slow)
      this.socket.write(
        encodeLine(new Outgoing({ type: 'error', code, message: message ?? ERRORS[code].title })),
      );
    this.socket.end();
    // A peer that does not read its last bytes is not waited on for long; a slow consumer gets
    // longer, to read what it was sent and then why it was cut off.
    setTimeout(
      () => this.socket.destroy(),
      slow ? this.door.deps.config.slowConsumerGrace : CLOSE_WAIT_MS,
    ).unref();
  }

  info(): ConnectionInfo {
    return describeConnection(this.socket, {
      user: this.conversation.user,
      rooms: this.conversation.rooms(),
      unsent: this.#outbox.unsent,
      since: this.since,
    });
  }
}

export class TcpDoor {
  readonly metrics: DoorMetrics;
  readonly #server: Server;
  readonly #connections = new Set<TcpConnection>();
  #closed = false;

  constructor(readonly deps: TcpDoorDeps) {
    const { config } = deps;
    this.metrics = deps.metrics.door('tcp');
    const onConnection = (socket: Socket) => this.#open(socket);
    // Both or neither: the node checked that before opening anything (checkServable).
    if (config.tcpTlsCert && config.tcpTlsKey) {
      this.#server = createTlsServer(
        { cert: readFileSync(config.tcpTlsCert), key: readFileSync(config.tcpTlsKey) },
        onConnection,
      );
    } else this.#server = createServer(onConnection);
    deps.cap.guard(this.#server, (socket) => {
      deps.metrics.connectionsRefused.labels('tcp').inc();
      // A TLS client would read plain JSON as garbage: it just sees the close.
      if (this.tls) socket.destroy();
      else
        refuseWith(
          socket,
          `${JSON.stringify({ type: 'error', code: 'too_many_connections', message: ERRORS.too_many_connections.title })}\n`,
        );
    });
    this.#server.on('error', () => {
      // Accept errors (EMFILE and the like) are per connection; the door keeps listening.
    });
  }

  get tls(): boolean {
    return Boolean(this.deps.config.tcpTlsCert);
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    return this.#server.address() as AddressInfo | null;
  }

  connections(): ConnectionInfo[] {
    return [...this.#connections].map((c) => c.info());
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Stop listening and end every connection with `unavailable` (reconnect elsewhere, resume). */
  close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#connections) {
      // One already cut off (a slow consumer in its grace) does not hold up the shutdown.
      if (c.closing) c.socket.destroy();
      else c.close('unavailable', 'The server is shutting down.');
    }
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #open(socket: Socket): void {
    const { config } = this.deps;
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const c = new TcpConnection(socket, this);
    this.#connections.add(c);
    this.metrics.connections.inc();
    socket.setNoDelay(true);
    // TCP keepalive finds peers that vanished without a FIN; the idle timeout ends connections
    // that send nothing (a client keeps one open with `ping`).
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(config.tcpIdleTimeout, () => c.close('idle_timeout'));
    const authTimer = setTimeout(() => {
      if (!c.conversation.authenticated) c.close('unauthorized', 'No auth frame in time.');
    }, config.wsAuthTimeout);
    authTimer.unref();
    socket.on('data', (chunk: Buffer) => c.receive(chunk));
    socket.on('error', () => {
      // ECONNRESET and friends: 'close' follows.
    });
    socket.on('close', () => {
      clearTimeout(authTimer);
      this.#connections.delete(c);
      this.metrics.connections.dec();
      c.conversation.closed();
    });
  }
}
