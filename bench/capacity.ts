// The capacity model: from per-unit costs measured on this machine (bench/capacity-units.json),
// what a deployment of a given size needs: nodes, Redis shards, PostgreSQL cores and disk, and
// which of them runs out first. Re-run it whenever a benchmark moves a unit cost.
//
//   npm run capacity -- [--connections 1000000] [--messages 100000] [--rooms 10000]
//                       [--node-cores 2] [--node-memory-gb 24] [--busy 0.6] [--postgres-max-cores 32]
//                       [--placement random|room] [--units bench/capacity-units.json]
//
// --placement random: connections land on any node (a plain load balancer), so a room's
// subscribers are spread over many nodes and each of those nodes takes the room's traffic from
// Redis. --placement room: a room's subscribers are kept on as few nodes as hold them (routing by
// room), so each room is served by one node while it fits.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Every unit cost, with where it was measured. */
interface Units {
  readonly measured: string;
  /** Node CPU per delivery on a WebSocket, µs (bench:fanout, hundreds of subscribers a room). */
  readonly deliveryMicros: number;
  /** Node RSS per idle connection, KB, by door (proof:load). */
  readonly idleConnectionKB: { readonly ws: number; readonly tcp: number; readonly sse: number };
  /** Node CPU to take one message in (decode, check, append, ack, publish), µs (bench:cluster stored, PostgreSQL). */
  readonly ingestMicros: number;
  /** Node CPU per message a node receives from Redis and fans out, beyond the deliveries, µs. */
  readonly busMessageMicros: number;
  /** PostgreSQL CPU per message inside a group commit, µs (bench:cluster stored, less its commits' share). */
  readonly postgresMicros: number;
  /** PostgreSQL CPU per commit, and how long one takes, ms, when commits come one message at a time. */
  readonly postgresCommitMicros: number;
  readonly commitMillis: number;
  /** Most writes in one group commit (groupCommitMaxBatch). */
  readonly maxBatch: number;
  /** PostgreSQL bytes per stored message, rows and indexes (bench:cluster stored). */
  readonly postgresBytes: number;
  /** Statements per group commit, whatever its size. */
  readonly statementsPerCommit: number;
  /** Redis CPU per message published, and per copy sent to a subscribed node, µs (bench:cluster bus). */
  readonly redisPublishMicros: number;
  readonly redisDeliveryMicros: number;
  /** Bytes of one message's envelope on Redis (bench:cluster bus). */
  readonly redisEnvelopeBytes: number;
}

const { values: flags } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000000' },
    messages: { type: 'string', default: '100000' },
    rooms: { type: 'string', default: '10000' },
    'node-cores': { type: 'string', default: '2' },
    'node-memory-gb': { type: 'string', default: '24' },
    busy: { type: 'string', default: '0.6' },
    placement: { type: 'string', default: 'random' },
    'postgres-max-cores': { type: 'string', default: '32' },
    units: {
      type: 'string',
      default: fileURLToPath(new URL('../../bench/capacity-units.json', import.meta.url)),
    },
  },
  strict: true,
});
const num = (name: keyof typeof flags) => {
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
};
if (flags.placement !== 'random' && flags.placement !== 'room')
  throw new Error('--placement: random or room');

export interface Plan {
  readonly subscribersPerRoom: number;
  readonly deliveriesPerSecond: number;
  readonly nodes: number;
  /** What sets the node count, and each candidate's count. */
  readonly nodesBy: Record<'memory' | 'cpu', number>;
  /** Node CPU (cores, all nodes) by what it is spent on. */
  readonly nodeCores: Record<'deliveries' | 'ingest' | 'bus', number>;
  readonly messagesPerCommit: number;
  /** Nodes that follow a room (each takes its traffic from Redis). */
  readonly nodesPerRoom: number;
  readonly redisCopiesPerSecond: number;
  readonly redisCores: number;
  readonly redisShards: number;
  readonly redisBytesOutPerSecond: number;
  readonly postgresCores: number;
  readonly postgresCommitsPerSecond: number;
  readonly postgresBytesPerDay: number;
}

/** Expected distinct nodes among `nodes` that hold at least one of `subs` connections placed at random. */
const spread = (nodes: number, subs: number) => nodes * (1 - (1 - 1 / nodes) ** subs);

export function plan(
  u: Units,
  d: {
    connections: number;
    messages: number;
    rooms: number;
    nodeCores: number;
    nodeMemoryGB: number;
    busy: number;
    placement: 'random' | 'room';
  },
): Plan {
  let parts = { deliveries: 0, ingest: 0, bus: 0 };
  const subscribersPerRoom = d.connections / d.rooms;
  const deliveriesPerSecond = d.messages * subscribersPerRoom;
  const kb = (u.idleConnectionKB.ws + u.idleConnectionKB.tcp + u.idleConnectionKB.sse) / 3;
  // Half the memory for connections: the rest is the runtime, buffers under load and headroom.
  const byMemory = Math.ceil((d.connections * kb) / ((d.nodeMemoryGB * 1024 * 1024) / 2));
  const budget = d.nodeCores * d.busy * 1e6; // µs of CPU a node may spend per second
  let nodes = Math.max(1, byMemory);
  let nodesPerRoom = 1;
  let byCpu = 1;
  // The spread of a room depends on the node count and the node count on the spread: iterate.
  for (let i = 0; i < 100; i++) {
    const perRoom =
      d.placement === 'room'
        ? Math.max(1, Math.ceil(subscribersPerRoom / (d.connections / nodes)))
        : spread(nodes, subscribersPerRoom);
    parts = {
      deliveries: (deliveriesPerSecond * u.deliveryMicros) / 1e6,
      ingest: (d.messages * u.ingestMicros) / 1e6,
      bus: (d.messages * perRoom * u.busMessageMicros) / 1e6,
    };
    const cpu = (parts.deliveries + parts.ingest + parts.bus) * 1e6;
    const need = Math.max(byMemory, Math.ceil(cpu / budget), 1);
    nodesPerRoom = perRoom;
    byCpu = Math.ceil(cpu / budget);
    if (need === nodes) break;
    nodes = need;
  }
  const redisCopiesPerSecond = d.messages * nodesPerRoom;
  const redisMicros = d.messages * u.redisPublishMicros + redisCopiesPerSecond * u.redisDeliveryMicros;
  const redisCores = redisMicros / 1e6;
  // A node commits one batch at a time; what arrives meanwhile makes the next batch. Few messages
  // per node means small batches, and PostgreSQL pays per commit.
  const messagesPerCommit = Math.min(u.maxBatch, Math.max(1, ((d.messages / nodes) * u.commitMillis) / 1000));
  const postgresCommitsPerSecond = d.messages / messagesPerCommit;
  return {
    subscribersPerRoom,
    deliveriesPerSecond,
    nodes,
    nodesBy: { memory: byMemory, cpu: byCpu },
    nodeCores: parts,
    messagesPerCommit,
    nodesPerRoom,
    redisCopiesPerSecond,
    redisCores,
    // A shard is one Redis process, one core; keep it as busy as a node.
    redisShards: Math.max(1, Math.ceil(redisCores / d.busy)),
    redisBytesOutPerSecond: redisCopiesPerSecond * u.redisEnvelopeBytes,
    postgresCores:
      (postgresCommitsPerSecond * u.postgresCommitMicros + d.messages * u.postgresMicros) / 1e6 / d.busy,
    postgresCommitsPerSecond,
    postgresBytesPerDay: d.messages * 86_400 * u.postgresBytes,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function main(): void {
  const units = JSON.parse(readFileSync(flags.units, 'utf8')) as Units;
  const d = {
    connections: num('connections'),
    messages: num('messages'),
    rooms: num('rooms'),
    nodeCores: num('node-cores'),
    nodeMemoryGB: num('node-memory-gb'),
    busy: num('busy'),
    placement: flags.placement as 'random' | 'room',
  };
  const p = plan(units, d);
  const rows: [string, string][] = [
    ['subscribers per room', fmt(p.subscribersPerRoom)],
    ['deliveries per second', fmt(p.deliveriesPerSecond)],
    [
      `porthouse nodes (${d.nodeCores} cores, ${d.nodeMemoryGB} GB, ${fmt(d.busy * 100)}% busy)`,
      `${fmt(p.nodes)} (memory alone: ${fmt(p.nodesBy.memory)}, CPU alone: ${fmt(p.nodesBy.cpu)})`,
    ],
    ['nodes that take each room from Redis', fmt(p.nodesPerRoom, 1)],
    ['Redis copies sent per second (messages × nodes per room)', fmt(p.redisCopiesPerSecond)],
    ['Redis CPU (cores) → shards', `${fmt(p.redisCores, 1)} → ${fmt(p.redisShards)}`],
    ['Redis bytes out per second', `${fmt(p.redisBytesOutPerSecond / 1e6, 1)} MB`],
    [
      'node CPU (cores): deliveries, taking messages in, taking rooms from Redis',
      `${fmt(p.nodeCores.deliveries, 1)}, ${fmt(p.nodeCores.ingest, 1)}, ${fmt(p.nodeCores.bus, 1)}`,
    ],
    [
      'PostgreSQL group commits per second (all nodes), messages in each',
      `${fmt(p.postgresCommitsPerSecond)}, ${fmt(p.messagesPerCommit, 1)}`,
    ],
    [
      `PostgreSQL round trips per second (${units.statementsPerCommit} per commit)`,
      fmt(p.postgresCommitsPerSecond * units.statementsPerCommit),
    ],
    ['PostgreSQL cores (primary, writes only)', fmt(p.postgresCores, 1)],
    ['PostgreSQL rows and indexes per day', `${fmt(p.postgresBytesPerDay / 1e9)} GB`],
  ];
  const biggest = (Object.entries(p.nodeCores) as [keyof Plan['nodeCores'], number][]).sort(
    (a, b) => b[1] - a[1],
  )[0]![0];
  const why = {
    deliveries: 'node CPU, writing deliveries to sockets',
    ingest: 'node CPU, taking messages in',
    bus: 'node CPU, each of the many nodes that serve a room taking its every message from Redis',
  }[biggest];
  const first =
    p.postgresCores > num('postgres-max-cores')
      ? `the PostgreSQL primary (${fmt(p.postgresCores)} cores, more than --postgres-max-cores): ${fmt(p.messagesPerCommit, 1)} messages per commit`
      : p.nodesBy.memory > p.nodesBy.cpu
        ? 'node memory (idle connections)'
        : why;
  process.stdout.write(
    `capacity for ${fmt(d.connections)} connections, ${fmt(d.messages)} messages/s, ${fmt(d.rooms)} rooms, placement ${d.placement}\n` +
      `units: ${units.measured}\n\n` +
      `| what | needed |\n| --- | --- |\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n\n` +
      `first bottleneck: ${first}\n`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
