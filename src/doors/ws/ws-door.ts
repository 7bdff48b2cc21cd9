// The WebSocket door: `/v1/ws` on the HTTP port (ws in noServer mode). It checks the Origin and
// an optional bearer token at the upgrade, then hands each text message to a Conversation.
// Events are framed once per event (not per recipient) and written straight to the socket,
// coalesced per event-loop turn; pings find dead peers; slow readers are cut off.
import { ingress, wsFrameBytes } from '../wire-bytes.js';
import type { Logger } from 'pino';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../../config.js';
import { ERRORS, type ErrorCode, PorthouseError } from '../../core/errors.js';
import { rawProblem } from '../raw-problem.js';
import type { Actor } from '../../core/types.js';
import type { Hub } from '../../hub/hub.js';
import type { Outgoing } from '../../hub/outgoing.js';
import type { DoorMetrics, Metrics } from '../../metrics/metrics.js';
import { Conversation, type Transport, conversationOptions, logInternal } from '../conversation.js';
import type { Services } from '../../service/services.js';
import { type ConnectionInfo, describeConnection } from '../connection-info.js';
import { OriginList } from '../origin-list.js';
import { CLOSE_WAIT_MS, Outbox } from '../outbox.js';
import { textFrame } from './frame.js';

export const WS_PATH = '/v1/ws';

export interface WsDoorDeps {
  readonly config: Config;
  readonly services: Services;
  readonly hub: Hub;
  readonly metrics: Metrics;
  readonly server: Server;
  /** Where failures that are not the client's doing are logged. */
  readonly logger?: Logger;
}

const encodeForWs = (out: Outgoing) => textFrame(out.json);

/**
 * How far past `wsMaxPayload` a message is still read, so its sender gets an `error
 * frame_too_large` before the 1009 close; a larger one is refused from its header alone (ws
 * closes with 1009 without reading it), so a connection never buffers more than this past it.
 */
export const OVERSIZE_READ_MARGIN = 65_536;

class WsConnection implements Transport {
  readonly conversation: Conversation;
  readonly since = new Date().toISOString();
  alive = true;
  readonly #outbox: Outbox | undefined;
  #closing = false;

  constructor(
    readonly ws: WebSocket,
    readonly socket: Socket,
    private readonly door: WsDoor,
  ) {
    const { config, services, hub, metrics } = door.deps;
    const { bytesOut, framesSent, writes } = door.metrics;
    // With compression each recipient's frame differs, so ws does the framing; without it the
    // shared pre-framed bytes go straight to the socket.
    this.#outbox = config.wsCompression
      ? undefined
      : new Outbox(socket, {
          door: 'ws',
          limit: config.sendBufferLimit,
          onOverflow: () => this.#slow(),
          onWrite: (bytes, frames) => {
            bytesOut.inc(bytes);
            writes.inc();
            framesSent.inc(frames);
          },
        });
    this.conversation = new Conversation(
      this,
      services,
      hub,
      conversationOptions(config, 'ws', { metrics, logger: door.deps.logger }),
    );
  }

  get closing(): boolean {
    return this.#closing;
  }

  send(out: Outgoing): void {
    // Not OPEN: ws began a close itself (a protocol error, or the peer's close), and no data
    // frame may follow a close frame.
    if (this.#closing || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.#outbox) {
      this.#outbox.push(out.encoded('ws', encodeForWs), out.journey);
      return;
    }
    if (this.ws.bufferedAmount > this.door.deps.config.sendBufferLimit) this.#slow();
    else this.ws.send(out.json);
  }

  drained(): Promise<void> | undefined {
    return this.#outbox?.drained();
  }

  close(code: ErrorCode | 'normal', message?: string, told = false): void {
    if (this.#closing) return;
    this.#closing = true;
    // Out of the hub at once: a connection in its close grace is not online, follows nothing and
    // does not count against the per-user cap while it reads its last bytes.
    this.conversation.closed();
    // A close that carries an error is how this door tells it, as TCP's last `error` line is;
    // one that follows an `error` frame of the same code was counted with that frame.
    if (code !== 'normal' && code !== 'slow_consumer' && !told)
      this.door.deps.metrics.errors.inc({ door: 'ws', code });
    this.#outbox?.flush();
    const closeCode = code === 'normal' ? 1000 : ((ERRORS[code] as { close?: number }).close ?? 4400);
    // Close reasons are limited to 123 bytes.
    const reason = Buffer.from(message ?? (code === 'normal' ? '' : ERRORS[code as ErrorCode].title))
      .subarray(0, 123)
      .toString();
    try {
      this.ws.close(closeCode, reason);
    } catch {
      this.ws.terminate();
    }
    // A peer that does not answer the close handshake is not waited on for long; a slow
    // consumer gets longer, to read what it was sent and then the close code.
    const grace = code === 'slow_consumer' ? this.door.deps.config.slowConsumerGrace : CLOSE_WAIT_MS;
    setTimeout(() => this.ws.terminate(), grace).unref();
  }

  #slow(): void {
    this.door.metrics.slowConsumers.inc();
    this.close('slow_consumer');
  }

  info(): ConnectionInfo {
    return describeConnection(this.socket, {
      user: this.conversation.user,
      rooms: this.conversation.rooms(),
      unsent: this.#outbox?.unsent ?? this.ws.bufferedAmount,
      since: this.since,
    });
  }
}

export class WsDoor {
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<WsConnection>();
  readonly #origins: OriginList;
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;

  readonly metrics: DoorMetrics;

  constructor(readonly deps: WsDoorDeps) {
    const { config, server } = deps;
    this.metrics = deps.metrics.door('ws');
    this.#origins = new OriginList(config.wsOrigins);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.wsMaxPayload + OVERSIZE_READ_MARGIN,
      perMessageDeflate: config.wsCompression,
      clientTracking: false,
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    this.#heartbeat = setInterval(() => this.#beat(), config.wsPingInterval);
    this.#heartbeat.unref();
  }

  connections(): ConnectionInfo[] {
    return [...this.#connections].map((c) => c.info());
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Close every connection with 1001 (going away); clients reconnect elsewhere and resume. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const c of this.#connections) {
      // One already cut off (a slow consumer in its grace) does not hold up the shutdown.
      if (c.closing) c.ws.terminate();
      else c.close('unavailable', 'The server is shutting down.');
    }
    this.#wss.close();
  }

  #beat(): void {
    for (const c of this.#connections) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        c.ws.terminate();
      }
    }
  }

  #originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || this.#origins.allows(origin)) return true;
    // Same origin: the page was served by this very host.
    try {
      return new URL(origin.toLowerCase()).host === (req.headers.host ?? '').toLowerCase();
    } catch {
      return false;
    }
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) refuse(socket, 'not_found', `Nothing to upgrade at ${path}.`);
    else if (this.#closed) refuse(socket, 'unavailable');
    else if (!this.#originAllowed(req))
      refuse(socket, 'origin_forbidden', `Origin ${req.headers.origin} is not allowed.`);
    else if (req.headers.authorization === undefined) this.#accept(req, socket, head, undefined);
    else {
      const token = /^Bearer +([!-~]+)$/i.exec(req.headers.authorization)?.[1];
      if (!token) refuse(socket, 'token_invalid', 'The Authorization header must be "Bearer <token>".');
      else
        this.deps.services.tokens.verify(token).then(
          (actor) => this.#accept(req, socket, head, actor),
          (err: unknown) => {
            if (err instanceof PorthouseError) return refuse(socket, err.code, err.message);
            logInternal(this.deps.logger, err, 'ws', 'upgrade');
            return refuse(socket, 'internal');
          },
        );
    }
  }

  #accept(req: IncomingMessage, socket: Socket, head: Buffer, actor: Actor | undefined): void {
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#open(ws, socket, actor));
  }

  #open(ws: WebSocket, socket: Socket, actor: Actor | undefined): void {
    const { config } = this.deps;
    const c = new WsConnection(ws, socket, this);
    this.#connections.add(c);
    this.metrics.connections.inc();
    socket.setNoDelay(true);
    let authTimer: NodeJS.Timeout | undefined;
    if (actor) c.conversation.authenticate(actor);
    else {
      authTimer = setTimeout(() => {
        if (!c.conversation.authenticated) c.close('unauthorized', 'No auth frame in time.');
      }, config.wsAuthTimeout);
      authTimer.unref();
    }
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      c.alive = true;
      // Closing: whatever it sends now could not be answered.
      if (c.closing) return;
      this.metrics.framesReceived.inc();
      // binaryType is nodebuffer: one Buffer, or its fragments.
      const bytes = Array.isArray(data) ? Buffer.concat(data) : (data as Buffer);
      if (bytes.length > config.wsMaxPayload) {
        const message = `A message may be at most ${config.wsMaxPayload} bytes (wsMaxPayload).`;
        c.conversation.refuse('frame_too_large', message);
        c.close('frame_too_large', message, true);
        return;
      }
      if (isBinary) {
        c.conversation.refuse('bad_request', 'Binary frames are not accepted; send JSON as text.');
        return;
      }
      c.conversation.receive(bytes.toString(), () =>
        ingress('ws', wsFrameBytes(bytes.length, true), 'WebSocket frame: header, masking key, JSON text'),
      );
    });
    ws.on('error', () => {
      // A protocol error (a message over wsMaxPayload + OVERSIZE_READ_MARGIN: 1009, invalid
      // UTF-8: 1007): ws closes the connection with the matching code; nothing else to do.
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.#connections.delete(c);
      this.metrics.connections.dec();
      c.conversation.closed();
    });
  }
}

/** Answer an upgrade request with a problem+json HTTP response and close the socket. */
function refuse(socket: Socket, code: ErrorCode, detail?: string): void {
  if (socket.writable) socket.end(rawProblem(code, detail));
  socket.destroySoon?.();
}
