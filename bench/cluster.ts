import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { abort, startClusterNodes, stopChildren } from './lib/children.js';
import {
  type BurstResult,
  type ClusterPublisher,
  type ClusterSubscriber,
  type LatencyResult,
  type NodeEndpoint,
  burst,
  latency,
  publisher,
  subscriber,
} from './lib/cluster-runs.js';
import { Tally, setUpPorthouse } from './lib/fanout-runs.js';
import { type StoredResult, storedScenario } from './lib/stored-runs.js';
import { type BusResult, busScenario } from './lib/bus-runs.js';
import { commitStats, machineInfo } from './lib/machine.js';
import { nodeMetrics } from './lib/node-metrics.js';
import { type CpuUse, cpuSnapshot, cpuUse } from './lib/procstat.js';
import {
  POSTGRES_URL,
  type PostgresActivity,
  REDIS_URL,
  activityDelta,
  createDatabase,
  dropDatabase,
  postgresActivity,
  servicesMissing,
  shown,
} from './lib/services.js';

const { values: flags } = parseArgs({
  options: {
    subs: { type: 'string', default: '200' },
    pubs: { type: 'string', default: '4' },
    messages: { type: 'string', default: '20000' },
    /** Messages sent before the measured burst, so every node's code is compiled (default: half of --messages). */
    warmup: { type: 'string' },
    window: { type: 'string', default: '32' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    'paced-rate': { type: 'string', default: '1000' },
    'paced-seconds': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '1' },
    parts: { type: 'string', default: 'stored,nodes,bus' },
    'stored-pubs': { type: 'string', default: '16' },
    'stored-messages': { type: 'string', default: '30000' },
    rooms: { type: 'string', default: '100' },
    /** Write each node's CPU profile (node --cpu-prof) into this directory. */
    profile: { type: 'string' },
    /** More options for every node's node (space-separated), e.g. --perf-basic-prof. */
    'node-args': { type: 'string', default: '' },
  },
  strict: true,
});
const int = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  return n;
};
const SUBS = int('subs', flags.subs);
const PUBS = int('pubs', flags.pubs);
const MESSAGES = int('messages', flags.messages);
const WINDOW = int('window', flags.window);
const RATE = int('rate', flags.rate);
const SECONDS = int('seconds', flags.seconds);
const ROUNDS = int('rounds', flags.rounds);
const PACED_RATE = int('paced-rate', flags['paced-rate']);
const PACED_SECONDS = int('paced-seconds', flags['paced-seconds']);
const PARTS = new Set(flags.parts.split(',').map((p) => p.trim()));
for (const part of PARTS)
  if (!['stored', 'nodes', 'bus'].includes(part)) throw new Error(`--parts: unknown part ${part}`);
const STORED_PUBS = int('stored-pubs', flags['stored-pubs']);
const STORED_MESSAGES = int('stored-messages', flags['stored-messages']);
const ROOMS = int('rooms', flags.rooms);
const BUS_SUBS_PER_ROOM = 2;
const BUS_PUBS_PER_NODE = 4;
const BUS_MESSAGES = 10_000;
const WARMUP =
  flags.warmup === undefined
    ? Math.max(PUBS * WINDOW, Math.round(MESSAGES / 2))
    : int('warmup', flags.warmup);
const TEXT_BYTES = 100;
const NODE_COUNTS = [1, 2];
const SERVICES = ['postgres', 'redis-server'];

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
const say = (text: string) => process.stdout.write(text);

interface ScenarioResult {
  readonly round: number;
  readonly nodes: number;
  readonly subsPerNode: number[];
  readonly pubsPerNode: number[];
  readonly throughput: BurstResult;
  readonly cpu: CpuUse;
  /** Node CPU (user + system, all nodes) per delivered message, µs. */
  readonly nodeCpuMicrosPerDelivery: number;
  readonly messagesPerCommit: number;
  /** WebSocket frames per socket write (one system call), over every node. */
  readonly framesPerWrite: number;
  /** During the throughput burst, over every node: subscriptions that read a gap from the store, and reorder waits that ran out. */
  readonly gapCatchUps: number;
  readonly reorderTimeouts: number;
  /** During the throughput burst: holds of messages ahead of their turn, and those over 5 ms. */
  readonly reorderHolds: number;
  readonly reorderHoldsOver5ms: number;
  /** Mean time of one group commit (its whole transaction), ms. */
  readonly meanCommitMs: number;
  readonly latency: LatencyResult;
  readonly latencyCpu: CpuUse;
  /** PACED_RATE messages/s for PACED_SECONDS: latency, and node CPU per delivery at that rate. */
  readonly paced: LatencyResult;
  readonly pacedCpu: CpuUse;
  readonly pacedCpuMicrosPerDelivery: number;
  /** PostgreSQL checkpoints and other databases' commits during each run (disturbances). */
  readonly throughputPostgres: PostgresActivity;
  readonly latencyPostgres: PostgresActivity;
}

let currentDatabase: string | undefined;

interface NodeCounts {
  /** WebSocket frames sent, and the socket writes that carried them. */
  readonly frames: number;
  readonly writes: number;
  /** Subscriptions that read a gap from the store, and reorder waits that ran out. */
  readonly gapCatchUps: number;
  readonly reorderTimeouts: number;
  /** Holds of messages that came ahead of their turn, and those that lasted over 5 ms. */
  readonly reorderHolds: number;
  readonly reorderHoldsOver5ms: number;
}

/** A node's counters so far (its /metrics). */
async function nodeCounts(url: string): Promise<NodeCounts> {
  const series = await nodeMetrics(url);
  const value = (name: string) => series(name) ?? 0;
  return {
    frames: value('porthouse_frames_sent_total{door="ws"}'),
    writes: value('porthouse_realtime_writes_total{door="ws"}'),
    gapCatchUps: value('porthouse_hub_catch_ups_total{reason="gap"}'),
    reorderTimeouts: value('porthouse_hub_reorder_hold_seconds_count{outcome="timeout"}'),
    reorderHolds:
      value('porthouse_hub_reorder_hold_seconds_count{outcome="filled"}') +
      value('porthouse_hub_reorder_hold_seconds_count{outcome="timeout"}'),
    reorderHoldsOver5ms:
      value('porthouse_hub_reorder_hold_seconds_count{outcome="filled"}') -
      value('porthouse_hub_reorder_hold_seconds_bucket{le="0.005",outcome="filled"}') +
      value('porthouse_hub_reorder_hold_seconds_count{outcome="timeout"}'),
  };
}

const countsDelta = (before: readonly NodeCounts[], after: readonly NodeCounts[], key: keyof NodeCounts) =>
  after.reduce((a, c, i) => a + c[key] - before[i]![key], 0);

async function scenario(round: number, nodes: number): Promise<ScenarioResult> {
  const db = await createDatabase(`n${nodes}`);
  currentDatabase = db.name;
  const subs: ClusterSubscriber[] = [];
  const pubs: ClusterPublisher[] = [];
  try {
    const children = await startClusterNodes(nodes, db.url, REDIS_URL, [
      ...(flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${flags.profile}`] : []),
      ...flags['node-args'].split(' ').filter(Boolean),
    ]);
    const token = await setUpPorthouse(children[0]!);
    const endpoints: NodeEndpoint[] = children.map((c, index) => ({
      index,
      wsUrl: `${c.url.replace(/^http/, 'ws')}/v1/ws`,
    }));
    const tally = new Tally();
    for (let i = 0; i < SUBS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, SUBS - i) }, (_, j) =>
          subscriber(endpoints[(i + j) % nodes]!, token, tally.hit),
        ),
      );
      subs.push(...batch);
    }
    for (let p = 0; p < PUBS; p++) pubs.push(await publisher(endpoints[p % nodes]!, token));
    const perNode = (list: readonly { node: number }[]) =>
      endpoints.map((e) => list.filter((x) => x.node === e.index).length);

    const timeoutMs = 120_000;
    say(`${ROUNDS > 1 ? `round ${round}, ` : ''}${nodes} node${nodes > 1 ? 's' : ''}: warm-up ... `);
    await burst(pubs, subs, tally, { messages: WARMUP, window: WINDOW, textBytes: TEXT_BYTES, timeoutMs });
    const pids = children.map((c) => c.pid);
    const commits0 = await Promise.all(children.map((c) => commitStats(c.url)));
    const counts0 = await Promise.all(children.map((c) => nodeCounts(c.url)));
    const pg0 = await postgresActivity(db.name);
    const cpu0 = cpuSnapshot(pids, SERVICES);
    say('throughput ... ');
    const throughput = await burst(pubs, subs, tally, {
      messages: MESSAGES,
      window: WINDOW,
      textBytes: TEXT_BYTES,
      timeoutMs,
    });
    const cpu = cpuUse(cpu0, cpuSnapshot(pids, SERVICES));
    const commits1 = await Promise.all(children.map((c) => commitStats(c.url)));
    const counts1 = await Promise.all(children.map((c) => nodeCounts(c.url)));
    const pg1 = await postgresActivity(db.name);
    const sum = (k: 'commits' | 'writes' | 'seconds', list: typeof commits0) =>
      list.reduce((a, c) => a + c[k], 0);
    const commits = sum('commits', commits1) - sum('commits', commits0);
    const messagesPerCommit = (sum('writes', commits1) - sum('writes', commits0)) / commits;
    const meanCommitMs = ((sum('seconds', commits1) - sum('seconds', commits0)) * 1000) / commits;
    const nodeCpuMicrosPerDelivery = (cpu.pidsSeconds * 1e6) / throughput.deliveries;
    say(
      `${fmt(throughput.deliveredPerSecond)} delivered/s, ${fmt(throughput.storedPerSecond)} stored/s, ${fmt(nodeCpuMicrosPerDelivery, 2)} µs node CPU/delivery; latency ... `,
    );
    await new Promise((r) => setTimeout(r, 500));
    const pg2 = await postgresActivity(db.name);
    const cpu2 = cpuSnapshot(pids, SERVICES);
    const lat = await latency(pubs, subs, tally, { rate: RATE, seconds: SECONDS, textBytes: TEXT_BYTES });
    const latencyCpu = cpuUse(cpu2, cpuSnapshot(pids, SERVICES));
    const pg3 = await postgresActivity(db.name);
    say(`p50 ${fmt(lat.all.p50Ms, 2)} ms, p99 ${fmt(lat.all.p99Ms, 2)} ms; paced ... `);
    // The same work at the same fixed rate for both set-ups, so neither's CPU per delivery is
    // measured at a load of its own choosing (the load generator still shares the cores).
    await new Promise((r) => setTimeout(r, 500));
    const cpu4 = cpuSnapshot(pids, SERVICES);
    const paced = await latency(pubs, subs, tally, {
      rate: PACED_RATE,
      seconds: PACED_SECONDS,
      textBytes: TEXT_BYTES,
    });
    const pacedCpu = cpuUse(cpu4, cpuSnapshot(pids, SERVICES));
    const pacedCpuMicrosPerDelivery = (pacedCpu.pidsSeconds * 1e6) / (paced.all.samples || Number.NaN);
    say(`${fmt(pacedCpuMicrosPerDelivery, 2)} µs node CPU/delivery, p99 ${fmt(paced.all.p99Ms, 2)} ms\n`);
    return {
      round,
      nodes,
      subsPerNode: perNode(subs),
      pubsPerNode: perNode(pubs),
      throughput,
      cpu,
      nodeCpuMicrosPerDelivery,
      messagesPerCommit,
      meanCommitMs,
      framesPerWrite: countsDelta(counts0, counts1, 'frames') / countsDelta(counts0, counts1, 'writes'),
      gapCatchUps: countsDelta(counts0, counts1, 'gapCatchUps'),
      reorderTimeouts: countsDelta(counts0, counts1, 'reorderTimeouts'),
      reorderHolds: countsDelta(counts0, counts1, 'reorderHolds'),
      reorderHoldsOver5ms: countsDelta(counts0, counts1, 'reorderHoldsOver5ms'),
      latency: lat,
      latencyCpu,
      paced,
      pacedCpu,
      pacedCpuMicrosPerDelivery,
      throughputPostgres: activityDelta(pg0, pg1),
      latencyPostgres: activityDelta(pg2, pg3),
    };
  } finally {
    for (const c of [...subs, ...pubs]) c.close();
    await stopChildren();
    await dropDatabase(db.name).then(
      () => {
        currentDatabase = undefined;
      },
      (err: unknown) => say(`\ncould not drop database ${db.name}: ${(err as Error).message}\n`),
    );
  }
}

const table = (header: string[], rows: string[][]) =>
  [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

/** The bus part's table: per node, what it took in from Redis against what the other node sent. */
function busTable(results: readonly BusResult[]): string {
  return table(
    [
      ...(ROUNDS > 1 ? ['round'] : []),
      'node',
      'rooms served',
      'rooms followed',
      'other node stored',
      'room events received',
      'share',
      'Redis msgs received',
      'own echoes',
      'received events/s',
    ],
    results.flatMap((r, round) =>
      r.nodes.map((n, i) => {
        const other = r.nodes[1 - i]!;
        return [
          ...(ROUNDS > 1 ? [String(round + 1)] : []),
          String(i),
          `${n.rooms} of ${r.rooms}`,
          String(n.roomsFollowing),
          fmt(other.published),
          fmt(n.roomEventsReceived),
          fmt(n.roomEventsReceived / other.published, 2),
          fmt(n.roomMessagesReceived),
          fmt(n.ownEchoes),
          fmt(n.roomEventsReceived / r.throughput.seconds),
        ];
      }),
    ),
  );
}

/** The store part's table, each PostgreSQL row beside the SQLite row of the same rooms and round. */
function storedTable(results: readonly StoredResult[]): string {
  return table(
    [
      'store',
      'rooms',
      'stored msg/s',
      '× SQLite',
      'node CPU µs/msg',
      'PG+Redis CPU µs/msg',
      'msgs/commit',
      'commit ms',
      'statements/commit',
      'room row updates/msg',
      'PG bytes/msg',
    ],
    results.map((r, i) => {
      const peer = r.store === 'postgres' ? results[i - 1] : undefined;
      const pg = r.store === 'postgres';
      return [
        r.store,
        String(r.rooms),
        fmt(r.throughput.storedPerSecond),
        peer ? fmt(r.throughput.storedPerSecond / peer.throughput.storedPerSecond, 2) : '',
        fmt(r.nodeCpuMicrosPerMessage, 1),
        fmt(r.servicesCpuMicrosPerMessage, 1),
        fmt(r.messagesPerCommit, 1),
        fmt(r.meanCommitMs, 2),
        pg ? fmt(r.statementsPerCommit, 1) : '',
        pg ? fmt(r.roomUpdatesPerMessage, 3) : '',
        pg ? fmt(r.postgresBytesPerMessage) : '',
      ];
    }),
  );
}

async function main(): Promise<number> {
  const missing = await servicesMissing();
  if (missing) {
    process.stderr.write(`bench:cluster needs PostgreSQL and Redis:\n${missing}\n`);
    return 2;
  }
  const budget =
    (ROUNDS * (NODE_COUNTS.length * (SECONDS + PACED_SECONDS + 180) + 4 * 120 + 180) + 30) * 1000;
  setTimeout(() => void abort(`took longer than ${Math.round(budget / 1000)} s`, 3), budget).unref();
  const machine = machineInfo();
  say(
    `porthouse cluster benchmark (${[...PARTS].join(', ')}): PostgreSQL + Redis\n` +
      `date: ${machine.date}\nnode: ${machine.node}\ncpu: ${machine.cpu} (${machine.cores} cores)\ncode: ${machine.commit}\n` +
      `postgres: ${shown(POSTGRES_URL)} (a throwaway database per scenario)\nredis: ${shown(REDIS_URL)}\n` +
      'The nodes, PostgreSQL, Redis and this load generator all share this machine.\n',
  );
  const stored: StoredResult[] = [];
  if (PARTS.has('stored')) {
    say(
      `\nstored: one node, ${STORED_PUBS} WebSocket publishers, no subscriber; ${fmt(STORED_MESSAGES)} messages of ${TEXT_BYTES} bytes, ${WINDOW} unacked per publisher\n`,
    );
    for (let round = 1; round <= ROUNDS; round++)
      for (const rooms of [1, ROOMS])
        for (const store of ['sqlite', 'postgres'] as const) {
          stored.push(
            await storedScenario(
              {
                store,
                rooms,
                publishers: STORED_PUBS,
                messages: STORED_MESSAGES,
                window: WINDOW,
                textBytes: TEXT_BYTES,
              },
              say,
            ),
          );
          await new Promise((r) => setTimeout(r, 1000));
        }
    say(`\n${storedTable(stored)}\n\n`);
  }
  const bus: BusResult[] = [];
  if (PARTS.has('bus')) {
    say(
      `\nbus: 2 nodes, ${ROOMS} rooms, ${BUS_SUBS_PER_ROOM} subscribers per room on the node serving it, ${BUS_PUBS_PER_NODE} publishers per node writing to every room; ${fmt(BUS_MESSAGES)} messages\n`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      bus.push(
        await busScenario(
          {
            rooms: ROOMS,
            subsPerRoom: BUS_SUBS_PER_ROOM,
            publishersPerNode: BUS_PUBS_PER_NODE,
            messages: BUS_MESSAGES,
            window: WINDOW,
            textBytes: TEXT_BYTES,
          },
          say,
        ),
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
    say(`\n${busTable(bus)}\n\n`);
    say(
      `${table(
        [
          ...(ROUNDS > 1 ? ['round'] : []),
          'Redis commands/msg',
          'bytes in/msg',
          'bytes out/msg',
          'Redis CPU µs/msg',
        ],
        bus.map((r, i) => [
          ...(ROUNDS > 1 ? [String(i + 1)] : []),
          fmt(r.redis.commandsPerMessage, 2),
          fmt(r.redis.bytesInPerMessage),
          fmt(r.redis.bytesOutPerMessage),
          fmt(r.redis.cpuMicrosPerMessage, 1),
        ]),
      )}\n\n`,
    );
  }
  const results: ScenarioResult[] = [];
  if (PARTS.has('nodes'))
    say(
      `\nnodes: 1 node vs 2 on one room; ${SUBS} WebSocket subscribers, ${PUBS} publishers; throughput: ${fmt(MESSAGES)} messages of ${TEXT_BYTES} bytes, ${WINDOW} unacked per publisher (after ${fmt(WARMUP)} warm-up); latency: ${RATE} msg/s for ${SECONDS} s\n`,
    );
  if (PARTS.has('nodes'))
    for (let round = 1; round <= ROUNDS; round++)
      for (const n of NODE_COUNTS) {
        results.push(await scenario(round, n));
        await new Promise((r) => setTimeout(r, 1000));
      }

  if (results.length > 0) reportNodes(results);
  for (const r of results)
    if (r.latency.lost > 0)
      say(`round ${r.round}, ${r.nodes} node(s): ${r.latency.lost} latency deliveries missing\n`);
  mkdirSync('.bench', { recursive: true });
  const file = join('.bench', `cluster-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine,
        settings: {
          SUBS,
          PUBS,
          MESSAGES,
          WARMUP,
          WINDOW,
          RATE,
          SECONDS,
          ROUNDS,
          TEXT_BYTES,
          STORED_PUBS,
          STORED_MESSAGES,
          ROOMS,
        },
        stored,
        bus,
        results,
      },
      null,
      2,
    ),
  );
  say(`\nwrote ${file}\n`);
  return results.some((r) => r.latency.lost > 0) ? 1 : 0;
}

/** The nodes part's tables: 1 node against 2, per round, and the ratios (their median over rounds). */
function reportNodes(results: readonly ScenarioResult[]): void {
  const split = (list: number[]) => list.join(' + ');
  const lead = (r: ScenarioResult) => (ROUNDS > 1 ? [String(r.round), String(r.nodes)] : [String(r.nodes)]);
  const leadHeader = ROUNDS > 1 ? ['round', 'nodes'] : ['nodes'];
  const summary = table(
    [
      ...leadHeader,
      'subscribers',
      'publishers',
      'delivered/s',
      'stored msg/s',
      'node CPU µs/delivery',
      'msgs/commit',
      'commit ms',
      'frames/write',
      'reorder holds (> 5 ms; timed out)',
      'gap reads',
      'p50 ms',
      'p99 ms',
      'max ms',
      `paced µs/delivery`,
      'paced p99 ms',
    ],
    results.map((r) => [
      ...lead(r),
      split(r.subsPerNode),
      split(r.pubsPerNode),
      fmt(r.throughput.deliveredPerSecond),
      fmt(r.throughput.storedPerSecond),
      fmt(r.nodeCpuMicrosPerDelivery, 2),
      fmt(r.messagesPerCommit, 1),
      fmt(r.meanCommitMs, 1),
      fmt(r.framesPerWrite, 1),
      `${fmt(r.reorderHolds)} (${fmt(r.reorderHoldsOver5ms)}; ${fmt(r.reorderTimeouts)})`,
      fmt(r.gapCatchUps),
      fmt(r.latency.all.p50Ms, 2),
      fmt(r.latency.all.p99Ms, 2),
      fmt(r.latency.all.maxMs, 2),
      fmt(r.pacedCpuMicrosPerDelivery, 2),
      fmt(r.paced.all.p99Ms, 2),
    ]),
  );
  const twoNodes = results.filter((r) => r.nodes > 1);
  const hop = table(
    [...(ROUNDS > 1 ? ['round'] : []), '2 nodes: deliveries', 'samples', 'p50 ms', 'p99 ms', 'max ms'],
    twoNodes.flatMap((r) =>
      (
        [
          ['on the publisher’s node', r.latency.sameNode],
          ['on the other node (via Redis)', r.latency.otherNode],
        ] as const
      ).map(([label, q]) => [
        ...(ROUNDS > 1 ? [String(r.round)] : []),
        label,
        fmt(q.samples),
        fmt(q.p50Ms, 2),
        fmt(q.p99Ms, 2),
        fmt(q.maxMs, 2),
      ]),
    ),
  );
  const cpuRow = (r: ScenarioResult, run: string, u: CpuUse, pg: PostgresActivity) => {
    const cores = (s: number) => fmt(s / u.seconds, 2);
    return [
      ...lead(r),
      run,
      fmt(u.seconds, 1),
      `${cores(u.machineBusySeconds)} of ${u.cores}`,
      cores(u.pidsSeconds),
      cores(u.namedSeconds),
      cores(u.selfSeconds),
      cores(u.machineBusySeconds - u.pidsSeconds - u.namedSeconds - u.selfSeconds),
      fmt(pg.checkpoints),
      fmt(pg.otherCommits),
    ];
  };
  const cpu = table(
    [
      ...leadHeader,
      'run',
      'seconds',
      'machine busy',
      'porthouse nodes',
      'PostgreSQL + Redis',
      'load generator',
      'anything else',
      'PG checkpoints',
      'other DBs’ commits',
    ],
    results.flatMap((r) => [
      cpuRow(r, 'throughput', r.cpu, r.throughputPostgres),
      cpuRow(r, 'latency', r.latencyCpu, r.latencyPostgres),
      cpuRow(r, 'paced', r.pacedCpu, { checkpoints: Number.NaN, otherCommits: Number.NaN }),
    ]),
  );
  say(
    `\n${summary}\n\n${hop}\n\nCPU in cores (1.00 = one core busy the whole run); "anything else" is other users of the machine, the kernel's threads and processes that ended during the run. PG checkpoints (each CREATE/DROP DATABASE forces one) and commits in other databases (a few are this benchmark's own probes) show whether anything else used PostgreSQL meanwhile:\n\n${cpu}\n\n`,
  );
  const ratios: { cpu: number; p99: number; pacedCpu: number; pacedP99: number }[] = [];
  for (let i = 0; i + 1 < results.length; i += 2) {
    const [a, b] = [results[i]!, results[i + 1]!];
    ratios.push({
      cpu: b.nodeCpuMicrosPerDelivery / a.nodeCpuMicrosPerDelivery,
      p99: b.latency.all.p99Ms / a.latency.all.p99Ms,
      pacedCpu: b.pacedCpuMicrosPerDelivery / a.pacedCpuMicrosPerDelivery,
      pacedP99: b.paced.all.p99Ms / a.paced.all.p99Ms,
    });
    say(
      `${ROUNDS > 1 ? `round ${a.round}: ` : ''}2 nodes / 1 node: delivered/s ×${fmt(b.throughput.deliveredPerSecond / a.throughput.deliveredPerSecond, 2)}, ` +
        `node CPU per delivery ×${fmt(b.nodeCpuMicrosPerDelivery / a.nodeCpuMicrosPerDelivery, 2)}, ` +
        `p50 ×${fmt(b.latency.all.p50Ms / a.latency.all.p50Ms, 2)}, p99 ×${fmt(b.latency.all.p99Ms / a.latency.all.p99Ms, 2)}; ` +
        `paced at ${fmt(PACED_RATE)} msg/s: node CPU per delivery ×${fmt(b.pacedCpuMicrosPerDelivery / a.pacedCpuMicrosPerDelivery, 2)}, p99 ×${fmt(b.paced.all.p99Ms / a.paced.all.p99Ms, 2)}\n`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
  if (ratios.length > 1)
    say(
      `median over ${ratios.length} rounds: node CPU per delivery ×${fmt(median(ratios.map((r) => r.cpu)), 2)}, p99 ×${fmt(median(ratios.map((r) => r.p99)), 2)}; ` +
        `paced: node CPU per delivery ×${fmt(median(ratios.map((r) => r.pacedCpu)), 2)}, p99 ×${fmt(median(ratios.map((r) => r.pacedP99)), 2)}\n`,
    );
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    // Most ways out drop the scenario's database in scenario()'s finally; one left by a kill is
    // dropped by the next run.
    if (currentDatabase) await dropDatabase(currentDatabase).catch(() => {});
    await abort(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1);
  },
);
