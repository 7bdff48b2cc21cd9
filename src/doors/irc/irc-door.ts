// The IRC door: RFC 1459/2812 lines (CR LF) with IRCv3 tags on their own port, optionally TLS,
// each connection an IrcSession onto the same hub and services as every door. Registration has
// a deadline, silence is PINGed and then closed, floods and slow readers are cut off.
import { readFileSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { RateLimiter } from '../../core/rate-limiter.js';
import type { Hub } from '../../hub/hub.js';
import type { DoorMetrics, Metrics } from '../../metrics/metrics.js';
import type { Services } from '../../service/services.js';
import { type AddressCap, refuseWith } from '../address-cap.js';
import { type ConnectionInfo, describeConnection } from '../connection-info.js';
import { logInternal } from '../conversation.js';
import { LineSplitter } from '../line-splitter.js';
import { CLOSE_WAIT_MS, Outbox } from '../outbox.js';
import { IrcSession, type IrcSessionOptions } from './irc-session.js';
import { MAX_CLIENT_TAG_BYTES, MAX_LINE_BYTES, formatIrcLine, parseIrcLine } from './irc-message.js';

export interface IrcDoorDeps {
  readonly config: Config;
  /** Open connections per client address, shared with the HTTP and TCP doors. */
  readonly cap: AddressCap;
  readonly services: Services;
  readonly hub: Hub;
  readonly metrics: Metrics;
  readonly logger?: Logger;
}

/** A line may carry MAX_CLIENT_TAG_BYTES of tags before its 512 bytes; longer is refused (417). */
const MAX_WIRE_LINE = MAX_CLIENT_TAG_BYTES + MAX_LINE_BYTES;

class IrcConnection {
  readonly session: IrcSession;
  readonly since = new Date().toISOString();
  readonly #outbox: Outbox;
  readonly #lines = new LineSplitter(MAX_WIRE_LINE);
  readonly #flood: RateLimiter;
  #closing = false;
  /** A PING sent and not yet answered by anything. */
  #pinged = false;

  constructor(
    readonly socket: Socket,
    private readonly door: IrcDoor,
    options: IrcSessionOptions,
  ) {
    const { config, services, hub } = door.deps;
    this.#flood = new RateLimiter(
      { ratePerSecond: config.ircLinesPerSecond, burst: config.ircLinesBurst },
      1,
    );
    this.#outbox = new Outbox(socket, {
      door: 'irc',
      limit: config.sendBufferLimit,
      onOverflow: () => {
        door.metrics.slowConsumers.inc();
        this.close('Slow consumer: read too slowly and was cut off', true);
      },
      onWrite: (bytes, frames) => {
        door.metrics.bytesOut.inc(bytes);
        door.metrics.writes.inc();
        door.metrics.framesSent.inc(frames);
      },
    });
    this.session = new IrcSession(
      {
        write: (lines, journey) => {
          if (!this.#closing)
            this.#outbox.push(typeof lines === 'string' ? Buffer.from(lines) : lines, journey);
        },
        close: (reason) => this.close(reason),
        drained: () => this.#outbox.drained(),
      },
      services,
      hub,
      options,
    );
  }

  get closing(): boolean {
    return this.#closing;
  }

  receive(chunk: Buffer): void {
    this.#pinged = false;
    const { config } = this.door.deps;
    for (const event of this.#lines.push(chunk)) {
      if (this.#closing) return;
      if (event.kind === 'too_long') {
        this.session.refuse('input_too_long');
        continue;
      }
      if (event.kind === 'invalid_utf8') {
        this.session.refuse('invalid_utf8');
        continue;
      }
      const parsed = parseIrcLine(event.text);
      if (!parsed.ok) {
        if (parsed.problem === 'input_too_long' || parsed.problem === 'tags_too_long')
          this.session.refuse('input_too_long');
        // An empty line (or one with only tags) is ignored, as servers do.
        continue;
      }
      this.door.metrics.framesReceived.inc();
      if (config.rateLimits && !this.#flood.take('c', Date.now()).ok) {
        this.door.deps.metrics.errors.inc({ door: 'irc', code: 'rate_limited' });
        this.close('Excess Flood');
        return;
      }
      this.session.receive(parsed.message, event.bytes);
    }
  }

  /** Silence for a ping interval: PING once; a second interval without a word closes. */
  idle(): void {
    if (this.#pinged) {
      this.door.deps.metrics.errors.inc({ door: 'irc', code: 'idle_timeout' });
      this.close(`Ping timeout: ${Math.round(this.door.deps.config.ircPingInterval / 1000)} seconds`);
      return;
    }
    this.#pinged = true;
    this.#outbox.push(Buffer.from(`PING :${this.door.deps.config.ircServerName}\r\n`));
  }

  /** `ERROR :Closing Link`, then the end of the stream; the reader gets CLOSE_WAIT_MS for it. */
  close(reason: string, slow = false): void {
    if (this.#closing) return;
    this.#closing = true;
    this.session.closed();
    const error = Buffer.from(
      formatIrcLine(undefined, 'ERROR', [`Closing Link: ${this.socket.remoteAddress ?? ''} (${reason})`]),
    );
    // The outbox refuses more once overflowed: a slow reader's reason goes straight to the socket.
    if (slow) this.socket.write(error);
    else this.#outbox.push(error);
    this.#outbox.flush();
    this.socket.end();
    const { config } = this.door.deps;
    setTimeout(() => this.socket.destroy(), slow ? config.slowConsumerGrace : CLOSE_WAIT_MS).unref();
  }

  info(): ConnectionInfo {
    return describeConnection(this.socket, {
      user: this.session.user,
      rooms: this.session.rooms(),
      unsent: this.#outbox.unsent,
      since: this.since,
    });
  }
}

export class IrcDoor {
  readonly metrics: DoorMetrics;
  readonly #servers: { server: Server; tls: boolean }[] = [];
  readonly #connections = new Set<IrcConnection>();
  readonly #options: IrcSessionOptions;
  #closed = false;

  constructor(readonly deps: IrcDoorDeps) {
    const { config, services, metrics, logger } = deps;
    this.metrics = metrics.door('irc');
    const logins = services.limiter('logins', {
      ratePerSecond: config.rateLoginsPerMinute / 60,
      burst: config.rateLoginsPerMinute,
    });
    const motd = config.ircMotd
      ? readFileSync(config.ircMotd, 'utf8')
          .split(/\r?\n/)
          .filter((l, i, all) => l !== '' || i < all.length - 1)
      : [];
    this.#options = {
      serverName: config.ircServerName,
      network: 'porthouse',
      startedAt: new Date().toUTCString(),
      motd,
      limits: config.rateLimits,
      pubPerSecond: config.framePubPerSecond,
      pubBurst: config.framePubBurst,
      typingPerSecond: config.typingPerSecond,
      historyLimit: config.ircHistoryLimit,
      maxSubscriptions: config.maxSubscriptions,
      // Filled per connection with its address (see #open).
      login: () => true,
      onError: (code) => metrics.errors.inc({ door: 'irc', code }),
      onInternal: (err, command) => logInternal(logger, err, 'irc', command),
    };
    this.#logins = (address) => {
      if (!config.rateLimits) return true;
      const decision = logins.take(`a:${address}`, Date.now());
      return decision instanceof Promise ? decision.then((d) => d.ok) : decision.ok;
    };
  }

  readonly #logins: (address: string) => Promise<boolean> | boolean;

  #server(tls: boolean): Server {
    const { config, cap, metrics } = this.deps;
    const onConnection = (socket: Socket) => this.#open(socket);
    const server =
      tls && config.tcpTlsCert && config.tcpTlsKey
        ? createTlsServer(
            { cert: readFileSync(config.tcpTlsCert), key: readFileSync(config.tcpTlsKey) },
            onConnection,
          )
        : createServer(onConnection);
    cap.guard(server, (socket) => {
      metrics.connectionsRefused.labels('irc').inc();
      if (tls) socket.destroy();
      else refuseWith(socket, 'ERROR :Closing Link: too many connections from your address\r\n');
    });
    server.on('error', () => {
      // Accept errors (EMFILE and the like) are per connection; the door keeps listening.
    });
    this.#servers.push({ server, tls });
    return server;
  }

  /** Listen on `port` (plain) and, with a TLS pair, on `tlsPort`; 0 leaves one closed, -1 picks a free one. */
  async listen(
    host: string,
    port: number,
    tlsPort: number,
  ): Promise<{ plain?: AddressInfo; tls?: AddressInfo }> {
    const out: { plain?: AddressInfo; tls?: AddressInfo } = {};
    const { config } = this.deps;
    if (port !== 0) out.plain = await listenOn(this.#server(false), host, port);
    if (tlsPort !== 0 && config.tcpTlsCert && config.tcpTlsKey)
      out.tls = await listenOn(this.#server(true), host, tlsPort);
    return out;
  }

  /** The listening addresses, plain first. */
  addresses(): { address: AddressInfo; tls: boolean }[] {
    const out: { address: AddressInfo; tls: boolean }[] = [];
    for (const { server, tls } of this.#servers) {
      const address = server.address();
      if (address && typeof address === 'object') out.push({ address, tls });
    }
    return out;
  }

  connections(): ConnectionInfo[] {
    return [...this.#connections].map((c) => c.info());
  }

  get size(): number {
    return this.#connections.size;
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#connections) {
      if (c.closing) c.socket.destroy();
      else c.close('Server shutting down');
    }
    return Promise.all(
      this.#servers.map(
        ({ server }) =>
          new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      ),
    ).then(() => undefined);
  }

  #open(socket: Socket): void {
    const { config } = this.deps;
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? '';
    const c = new IrcConnection(socket, this, { ...this.#options, login: () => this.#logins(address) });
    this.#connections.add(c);
    this.metrics.connections.inc();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    // `on`, not setTimeout's callback, which is a `once`: silence is PINGed again and again.
    socket.setTimeout(config.ircPingInterval);
    socket.on('timeout', () => c.idle());
    const registration = setTimeout(() => c.session.timedOut(), config.ircRegistrationTimeout);
    registration.unref();
    socket.on('data', (chunk: Buffer) => c.receive(chunk));
    socket.on('error', () => {
      // ECONNRESET and friends: 'close' follows.
    });
    socket.on('close', () => {
      clearTimeout(registration);
      this.#connections.delete(c);
      this.metrics.connections.dec();
      c.session.closed();
    });
  }
}

function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: Math.max(port, 0) }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
