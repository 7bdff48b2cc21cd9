// Wires one node from a config: the embedded store and in-memory bus by default, the services
// every door shares, and the doors. start() resolves once every door listens; stop() drains.
import type { Server as HttpServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { type Logger, pino } from 'pino';
import { Tokens } from './auth/tokens.js';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/bus-memory.js';
import { type Config, checkServable } from './config.js';
import { buildHttpApp } from './doors/http/app.js';
import { HttpConnections } from './doors/http/http-connections.js';
import { eventRoutes } from './doors/sse/events-route.js';
import { SseStreams } from './doors/sse/sse-streams.js';
import { AddressCap } from './doors/address-cap.js';
import { Cors } from './doors/cors.js';
import { KernelSockets } from './doors/kernel-sockets.js';
import { socketKey } from './doors/kernel-socket-table.js';
import { IrcDoor } from './doors/irc/irc-door.js';
import { TcpDoor } from './doors/tcp/tcp-door.js';
import { COOKIE_SECRET_SETTING } from './doors/udp/cookie.js';
import { UdpDoor } from './doors/udp/udp-door.js';
import { WS_PATH, WsDoor } from './doors/ws/ws-door.js';
import { Hub } from './hub/hub.js';
import { Metrics } from './metrics/metrics.js';
import { type Services, createServices } from './service/services.js';
import type { DoorInfo, SocketInfo } from './core/types.js';
import type { Store } from './store/store.js';
import { RedisBus } from './bus/bus-redis.js';
import { PostgresStore } from './store/store-postgres.js';
import { SqliteStore, type SqliteStoreOptions } from './store/store-sqlite.js';

export interface DoorAddress {
  /** Door name: http (REST, docs), ws, sse, tcp, udp or irc. */
  readonly door: string;
  readonly protocol: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
  /** How a client names it, e.g. http://127.0.0.1:8080. */
  readonly url: string;
}

export interface PorthouseServer {
  readonly config: Config;
  readonly store: Store;
  readonly bus: Bus;
  readonly services: Services;
  readonly metrics: Metrics;
  readonly hub: Hub;
  readonly ws: WsDoor;
  readonly sse: SseStreams;
  readonly tcp: TcpDoor;
  readonly udp: UdpDoor;
  readonly irc: IrcDoor;
  addresses(): DoorAddress[];
  /** The HTTP base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Stop accepting, let in-flight requests and writes finish (up to shutdownTimeout), close. */
  stop(): Promise<void>;
}

const hostForUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

export function createLogger(config: Config): Logger {
  return pino(
    { level: config.logLevel, base: { app: 'porthouse' } },
    pino.destination({ fd: 2, sync: false }),
  );
}

export interface StartOptions {
  logger?: Logger;
  store?: Store;
  bus?: Bus;
  /** Tests only: wraps each WAL sync of the SQLite store this node opens, to fail one on purpose. */
  wrapSync?: SqliteStoreOptions['wrapSync'];
}

/**
 * Start one node, step by step: check the configuration, open the store, open the bus (closing
 * the store if it cannot), build the services and the hub, then open the doors.
 */
export async function start(config: Config, options: StartOptions = {}): Promise<PorthouseServer> {
  // Before anything is opened: options that go together, and the files they name.
  checkServable(config);
  const logger = options.logger ?? createLogger(config);
  const metrics = new Metrics();
  const store = options.store ?? (await openStore(config, metrics, logger, options.wrapSync));
  const bus = options.bus ?? (await openBus(config, metrics, logger, store));
  metrics.following = () => bus.following;
  let stopping = false;
  try {
    const tokens = await Tokens.open(store, {
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      ttl: config.tokenTtl,
      jwksUrl: config.jwksUrl,
    });
    const services = createServices({
      config,
      store,
      bus,
      tokens,
      onStored: (via) => metrics.stored(via),
      onPublishError: (err, event) => logger.warn({ err, event }, 'bus publish failed'),
    });
    const hub = new Hub(
      { store, bus, journeys: services.journeys },
      {
        replayPageSize: config.replayPageSize,
        maxSubscriptions: config.maxSubscriptions,
        presenceInterval: config.presenceInterval,
        reorderWait: config.reorderWait,
        maxConnectionsPerUser: config.maxConnectionsPerUser,
        followTimeout: config.busFollowTimeout,
        onReorderHold: (ms, timedOut) =>
          metrics.reorderHold.labels(timedOut ? 'timeout' : 'filled').observe(ms / 1000),
      },
    );
    metrics.hub = () => hub.stats();
    const { app, httpConnections, ws, sse, tcp, udp, irc, port, url, tcpAddress, udpAddress } =
      await openDoors(config, { store, bus, services, hub, metrics, logger }, () => stopping);

    const pruneEvery = Math.min(3_600_000, config.idempotencyWindow * 1000);
    const prune = setInterval(() => {
      store.pruneIdempotencyKeys(Date.now() - config.idempotencyWindow * 1000).catch((err: unknown) => {
        logger.warn({ err }, 'pruning idempotency keys failed');
      });
    }, pruneEvery);
    prune.unref();

    let stopped: Promise<void> | undefined;
    return {
      config,
      store,
      bus,
      services,
      metrics,
      url,
      hub,
      ws,
      sse,
      tcp,
      udp,
      irc,
      addresses: () => [
        { door: 'http', protocol: 'tcp', host: config.host, port, url },
        {
          door: 'ws',
          protocol: 'tcp',
          host: config.host,
          port,
          url: `${url.replace(/^http/, 'ws')}${WS_PATH}`,
        },
        {
          door: 'tcp',
          protocol: 'tcp',
          host: config.host,
          port: tcpAddress.port,
          url: `${tcp.tls ? 'tls' : 'tcp'}://${hostForUrl(config.host)}:${tcpAddress.port}`,
        },
        {
          door: 'udp',
          protocol: 'udp',
          host: config.host,
          port: udpAddress.port,
          url: `udp://${hostForUrl(config.host)}:${udpAddress.port}`,
        },
        ...irc.addresses().map(({ address, tls }) => ({
          door: 'irc',
          protocol: 'tcp' as const,
          host: config.host,
          port: address.port,
          url: `${tls ? 'ircs' : 'irc'}://${hostForUrl(config.host)}:${address.port}`,
        })),
      ],
      stop: () => {
        stopped ??= (async () => {
          stopping = true;
          clearInterval(prune);
          const deadline = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeout);
          deadline.unref();
          // Real-time connections go first (1001: reconnect elsewhere and resume), then the HTTP
          // door drains its in-flight requests.
          ws.close();
          sse.close();
          httpConnections.closeIdle();
          const tcpClosed = tcp.close();
          const udpClosed = udp.close();
          const ircClosed = irc.close();
          hub.close();
          await app.close();
          await tcpClosed;
          await udpClosed;
          await ircClosed;
          clearTimeout(deadline);
          await bus.close();
          // Every request has answered, so every write it started is queued or committed; close
          // commits whatever is still queued.
          await store.close();
          logger.flush();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await bus.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}

/**
 * The doors: HTTP (REST, and SSE on its port), WebSocket on the HTTP server, TCP, UDP and IRC; each
 * listening, or none (a port in use closes the ones already open).
 */
async function openDoors(
  config: Config,
  parts: {
    store: Store;
    bus: Bus;
    services: Services;
    hub: Hub;
    metrics: Metrics;
    logger: Logger;
  },
  stopping: () => boolean,
) {
  const { store, bus, services, hub, metrics, logger } = parts;
  const sse = new SseStreams({ config, hub, metrics });
  // Filled in once the doors exist: the five-tuple listing sees every door from here.
  let listSockets: () => Promise<SocketInfo[]> = async () => [];
  let listDoors: () => DoorInfo[] = () => [];
  // One count per client address across HTTP, TCP and IRC: a flood on one door fills the same cap.
  const cap = new AddressCap(config.maxConnectionsPerAddress);
  // Which origins' pages may read answers: REST's and the SSE stream's alike.
  const cors = new Cors(config.corsOrigins);
  const app = await buildHttpApp({
    config,
    cap,
    services,
    cors,
    // The SSE door rides on the HTTP door's port and admission; its route is its own.
    routes: [eventRoutes(services, sse, cors)],
    sockets: () => listSockets(),
    doors: () => listDoors(),
    metrics,
    logger,
    ready: async () => {
      if (stopping() || !bus.healthy) return false;
      try {
        await store.ping();
        return true;
      } catch {
        return false;
      }
    },
  });
  const httpConnections = new HttpConnections(app.server);
  const ws = new WsDoor({ config, services, hub, metrics, server: app.server, logger });
  const tcp = new TcpDoor({ config, cap, services, hub, metrics, logger });
  const cookieSecret = Buffer.from(
    await store.settingOrInit(COOKIE_SECRET_SETTING, () => randomBytes(32).toString('base64')),
    'base64',
  );
  const udp = new UdpDoor({ config, services, hub, metrics, cookieSecret, logger });
  const irc = new IrcDoor({ config, cap, services, hub, metrics, logger });
  await app.listen({ host: config.host, port: config.port });
  let tcpAddress: { port: number };
  let udpAddress: { port: number };
  try {
    tcpAddress = await tcp.listen(config.host, config.tcpPort);
    udpAddress = await udp.listen(config.host, config.udpPort);
    await irc.listen(config.host, config.ircPort, config.ircTlsPort);
  } catch (err) {
    ws.close();
    await tcp.close().catch(() => {});
    await udp.close().catch(() => {});
    await irc.close().catch(() => {});
    await app.close();
    throw err;
  }
  const kernel = new KernelSockets({ ttlMs: config.kernelStateTtl });
  listSockets = async () => {
    const listed = listAllSockets(app.server, httpConnections.sockets(), ws, sse, tcp, udp, irc);
    await addTransportState(listed, kernel);
    return listed;
  };
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  listDoors = () => [
    { door: 'http', protocol: 'tcp', port, tls: false },
    { door: 'ws', protocol: 'tcp', port, tls: false, path: WS_PATH },
    { door: 'sse', protocol: 'tcp', port, tls: false, path: '/v1/rooms/{room}/events' },
    { door: 'tcp', protocol: 'tcp', port: tcpAddress.port, tls: tcp.tls },
    { door: 'udp', protocol: 'udp', port: udpAddress.port, tls: false },
    ...irc.addresses().map(({ address, tls }) => ({
      door: 'irc' as const,
      protocol: 'tcp' as const,
      port: address.port,
      tls,
    })),
  ];
  const url = `http://${hostForUrl(config.host)}:${port}`;

  return { app, httpConnections, ws, sse, tcp, udp, irc, port, url, tcpAddress, udpAddress };
}

/** The embedded SQLite store under --data, or the deployment's PostgreSQL with --postgres. */
async function openStore(
  config: Config,
  metrics: Metrics,
  logger: Logger,
  wrapSync: StartOptions['wrapSync'],
): Promise<Store> {
  const onBatch = ({ size, seconds, statements }: { size: number; seconds: number; statements?: number }) => {
    metrics.commitBatchSize.observe(size);
    metrics.commitDuration.observe(seconds);
    if (statements !== undefined) metrics.commitStatements.inc(statements);
  };
  return config.postgres
    ? await PostgresStore.open({
        url: config.postgres,
        poolSize: config.postgresPool,
        maxBatch: config.groupCommitMaxBatch,
        onBatch,
      })
    : new SqliteStore({
        dir: config.data,
        synchronous: config.sqliteSynchronous as 'full' | 'fdatasync' | 'normal',
        maxBatch: config.groupCommitMaxBatch,
        // In memory only while this process makes every write (never with a shared database).
        cache: { maxRooms: config.cacheRooms, maxRoles: config.cacheRoles },
        onBatch,
        onSync: (seconds) => metrics.syncWait.observe(seconds),
        onDiskFailure: (err) => {
          metrics.diskFailed.set(1);
          logger.error(
            { err },
            'the disk failed a write or a sync: nothing more is stored or shown as durable; fix the disk and restart this node',
          );
        },
        ...(wrapSync ? { wrapSync } : {}),
      });
}

/** Redis with --redis (the store is closed if it cannot be reached), else the in-process bus. */
async function openBus(config: Config, metrics: Metrics, logger: Logger, store: Store): Promise<Bus> {
  if (!config.redis) return new MemoryBus();
  const redis = new RedisBus({
    url: config.redis,
    channel: config.redisChannel,
    presenceLease: config.presenceLease,
    roomLinger: config.redisRoomLinger,
    mergeWait: config.busMergeWait,
    onReceive: (channel, origin, events) => {
      metrics.busReceived.labels(channel, origin).inc();
      if (events > 0) metrics.busEventsReceived.labels(channel).inc(events);
    },
    onError: (err) => logger.warn({ err: err.message }, 'redis'),
  });
  try {
    await redis.connect();
  } catch (err) {
    await redis.close();
    await store.close().catch(() => {});
    throw new Error(`--redis ${config.redis}: cannot connect (${(err as Error).message})`);
  }
  return redis;
}

/**
 * The kernel's view of each listed socket: TCP_INFO for connections on the node's TCP ports,
 * queues and drops for its UDP socket; null where the kernel's tables could not be read.
 */
async function addTransportState(listed: SocketInfo[], kernel: KernelSockets): Promise<void> {
  const ports = [
    ...new Set(listed.filter((s) => s.protocol === 'tcp' && s.state === 'listening').map((s) => s.localPort)),
  ];
  const [tcpTable, udpTable] = await Promise.all([kernel.tcp(ports), kernel.udp()]);
  for (const s of listed) {
    if (s.protocol === 'tcp' && s.state === 'connected')
      s.transport =
        tcpTable?.get(socketKey(s.localAddress, s.localPort, s.remoteAddress ?? '', s.remotePort ?? 0)) ??
        null;
    else if (s.protocol === 'udp' && s.state === 'listening')
      s.transport = udpTable?.get(`${s.localAddress}|${s.localPort}`) ?? null;
  }
}

/**
 * Every socket of the node: the listening ones, then each connection as a five-tuple with its
 * door. An HTTP connection that was upgraded (ws) or turned into a stream (sse) is listed once,
 * under the door that now owns it.
 */
function listAllSockets(
  http: HttpServer,
  httpSockets: Iterable<Socket>,
  ws: WsDoor,
  sse: SseStreams,
  tcp: TcpDoor,
  udp: UdpDoor,
  irc: IrcDoor,
): SocketInfo[] {
  const out: SocketInfo[] = [];
  const listening = (door: SocketInfo['door'], address: AddressInfo | string | null) => {
    if (address && typeof address === 'object')
      out.push({
        protocol: 'tcp',
        door,
        state: 'listening',
        localAddress: address.address,
        localPort: address.port,
      });
  };
  listening('http', http.address());
  listening('tcp', tcp.address());
  for (const { address } of irc.addresses()) listening('irc', address);
  const udpAt = udp.address();
  if (udpAt)
    out.push({
      protocol: 'udp',
      door: 'udp',
      state: 'listening',
      localAddress: udpAt.address,
      localPort: udpAt.port,
    });
  const claimed = new Set<string>();
  const connected = (
    door: SocketInfo['door'],
    c: Omit<SocketInfo, 'protocol' | 'door' | 'state' | 'user'> & { user?: string | undefined },
  ) => {
    claimed.add(`${c.remoteAddress}|${c.remotePort}`);
    const { user, ...rest } = c;
    out.push({ protocol: 'tcp', door, state: 'connected', ...rest, ...(user === undefined ? {} : { user }) });
  };
  for (const c of ws.connections()) connected('ws', c);
  for (const c of sse.streams()) connected('sse', c);
  for (const c of tcp.connections()) connected('tcp', c);
  for (const c of irc.connections()) connected('irc', c);
  for (const p of udp.peers())
    out.push({
      protocol: 'udp',
      door: 'udp',
      state: 'subscribed',
      localAddress: udpAt?.address ?? '',
      localPort: udpAt?.port ?? 0,
      remoteAddress: p.remoteAddress,
      remotePort: p.remotePort,
      user: p.user,
      rooms: p.rooms,
      bytesOut: p.bytesOut,
      since: p.since,
    });
  for (const s of httpSockets) {
    if (s.destroyed || claimed.has(`${s.remoteAddress}|${s.remotePort}`)) continue;
    out.push({
      protocol: 'tcp',
      door: 'http',
      state: 'connected',
      localAddress: s.localAddress ?? '',
      localPort: s.localPort ?? 0,
      remoteAddress: s.remoteAddress ?? '',
      remotePort: s.remotePort ?? 0,
      bytesIn: s.bytesRead,
      bytesOut: s.bytesWritten,
    });
  }
  return out;
}
