// The node's Prometheus metrics, one registry per node (several nodes can share a process in
// tests). Doors and the store report here; GET /metrics renders it.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One door's series, bound once: label look-ups hash their labels, too slow per frame. */
export interface DoorMetrics {
  readonly connections: { inc(): void; dec(): void };
  readonly framesReceived: { inc(): void };
  readonly framesSent: { inc(frames: number): void };
  readonly bytesOut: { inc(bytes: number): void };
  readonly writes: { inc(): void };
  readonly slowConsumers: { inc(): void };
}

/** The metric children of one (method, route, status), looked up once instead of per request. */
interface HttpSeries {
  readonly requests: { inc(): void };
  readonly duration: { observe(value: number): void };
}

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'porthouse_http_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'porthouse_http_request_duration_seconds',
    help: 'Time from request to response, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'porthouse_errors_total',
    help: 'Errors answered to clients, by door and stable code.',
    labelNames: ['door', 'code'] as const,
    registers: [this.registry],
  });

  readonly messagesStored = new Counter({
    name: 'porthouse_messages_stored_total',
    help: 'Messages durably stored, by the door they came through.',
    labelNames: ['via'] as const,
    registers: [this.registry],
  });

  readonly realtimeConnections = new Gauge({
    name: 'porthouse_realtime_connections',
    help: 'Open real-time connections, by door (ws, sse, tcp).',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  readonly framesReceived = new Counter({
    name: 'porthouse_frames_received_total',
    help: 'Frames received from clients, by door.',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  readonly framesSent = new Counter({
    name: 'porthouse_frames_sent_total',
    help: 'Frames handed to clients (events, acks, errors), by door.',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  readonly realtimeBytesOut = new Counter({
    name: 'porthouse_realtime_bytes_sent_total',
    help: 'Bytes handed to real-time sockets, by door.',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  readonly realtimeWrites = new Counter({
    name: 'porthouse_realtime_writes_total',
    help: 'Socket writes to real-time connections, by door: frames sent over writes is how many frames share one write (one system call).',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  readonly slowConsumers = new Counter({
    name: 'porthouse_slow_consumers_total',
    help: 'Connections cut off because they read too slowly (close 4008), by door.',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  readonly connectionsRefused = new Counter({
    name: 'porthouse_connections_refused_total',
    help: 'Connections refused on accept because their address already had maxConnectionsPerAddress open, by door (http, tcp).',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  readonly udpDropped = new Counter({
    name: 'porthouse_udp_dropped_total',
    help: 'Datagrams the UDP door dropped, by reason (rate_limited, reply_larger_than_request, event_too_large).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly commitBatchSize = new Histogram({
    name: 'porthouse_store_commit_batch_size',
    help: 'Writes sharing one group commit (one transaction, one fsync).',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });

  readonly commitStatements = new Counter({
    name: 'porthouse_store_statements_total',
    help: 'Statements sent to PostgreSQL by group commits (BEGIN and COMMIT included): a batch costs the same few whatever its size.',
    registers: [this.registry],
  });

  readonly commitDuration = new Histogram({
    name: 'porthouse_store_commit_duration_seconds',
    help: 'Time to run and commit one group of writes.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });

  readonly syncWait = new Histogram({
    name: 'porthouse_store_sync_wait_seconds',
    help: 'Time from a group commit to its write-ahead log being on disk (SQLite fdatasync mode): the disk flush every acknowledgement waits for.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });

  readonly busReceived = new Counter({
    name: 'porthouse_bus_received_total',
    help: "Messages this node received from Redis, by channel (room: a room it follows; control: deployment-wide events) and origin (own: its own event echoed back; other: another node's).",
    labelNames: ['channel', 'origin'] as const,
    registers: [this.registry],
  });

  readonly busEventsReceived = new Counter({
    name: 'porthouse_bus_events_received_total',
    help: "Events (messages, edits, typing, room and member changes…) this node received from other nodes through Redis, by channel; a turn's events of one channel travel as one Redis message.",
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });

  /** Rooms whose events reach this node through the bus; set by the node once it has a bus. */
  following: () => number = () => 0;

  readonly busFollowing: Gauge = new Gauge({
    name: 'porthouse_bus_rooms_following',
    help: 'Rooms whose Redis channel this node listens to: those with a subscriber here, and for a while those whose last one left.',
    registers: [this.registry],
    collect: (): void => this.busFollowing.set(this.following()),
  });

  /** The hub's counts since start; set by the node once it has a hub. */
  hub: () => { catchUps: Readonly<Record<string, number>> } | undefined = () => undefined;

  readonly hubCatchUps: Counter = new Counter({
    name: 'porthouse_hub_catch_ups_total',
    help: 'Subscriptions that read messages from the store instead of the bus, by reason (resume: a subscribe, with since or at the head; gap: a live message came ahead of its turn; resync: the bus may have dropped events). Under steady load, gap should stay near 0.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
    collect: (): void => {
      const stats = this.hub();
      if (!stats) return;
      this.hubCatchUps.reset();
      for (const [reason, n] of Object.entries(stats.catchUps)) this.hubCatchUps.labels(reason).inc(n);
    },
  });

  readonly reorderHold = new Histogram({
    name: 'porthouse_hub_reorder_hold_seconds',
    help: "How long messages that came ahead of their turn (another node's earlier one still on its way through the bus) were held, by outcome: filled (the missing one came) or timeout (reorderWait ran out, and their subscribers read the gap from the store). Timeouts under load mean reorderWait is shorter than this node's delays.",
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly diskFailed = new Gauge({
    name: 'porthouse_store_disk_failed',
    help: '1 once the disk has failed a write-ahead log sync or a commit (SQLite): until it is restarted on a working disk, the node refuses every write and every read that waits for durability, and is not ready. 0 otherwise.',
    registers: [this.registry],
  });

  // Keyed by method, route pattern and status: a bounded set, since unmatched URLs share one route.
  readonly #http = new Map<string, HttpSeries>();

  readonly #doors = new Map<string, DoorMetrics>();
  readonly #stored = new Map<string, { inc(): void }>();

  door(door: string): DoorMetrics {
    let m = this.#doors.get(door);
    if (!m) {
      m = {
        connections: this.realtimeConnections.labels(door),
        framesReceived: this.framesReceived.labels(door),
        framesSent: this.framesSent.labels(door),
        bytesOut: this.realtimeBytesOut.labels(door),
        writes: this.realtimeWrites.labels(door),
        slowConsumers: this.slowConsumers.labels(door),
      };
      this.#doors.set(door, m);
    }
    return m;
  }

  /** Count one message stored through `via`. */
  stored(via: string): void {
    let c = this.#stored.get(via);
    if (!c) {
      c = this.messagesStored.labels(via);
      this.#stored.set(via, c);
    }
    c.inc();
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'porthouse_' });
    this.diskFailed.set(0);
  }

  /** Count one answered HTTP request and its duration. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.#http.get(key);
    if (!series) {
      series = {
        requests: this.httpRequests.labels(method, route, String(status)),
        duration: this.httpDuration.labels(method, route),
      };
      this.#http.set(key, series);
    }
    series.requests.inc();
    series.duration.observe(seconds);
  }
}
