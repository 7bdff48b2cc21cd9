import { Redis } from 'ioredis';
import { type Child, startClusterNodes, stopChildren } from './children.js';
import {
  type BurstResult,
  type ClusterPublisher,
  type ClusterSubscriber,
  burst,
  publisher,
  subscriber,
} from './cluster-runs.js';
import { Tally, setUpPorthouse } from './fanout-runs.js';
import { createRooms } from './stored-runs.js';
import { nodeMetrics } from './node-metrics.js';
import { processTimes } from './procstat.js';
import { REDIS_URL, createDatabase, dropDatabase } from './services.js';

export interface BusOptions {
  readonly rooms: number;
  /** Subscribers per room, all on the node that serves the room. */
  readonly subsPerRoom: number;
  readonly publishersPerNode: number;
  readonly messages: number;
  readonly window: number;
  readonly textBytes: number;
}

export interface NodeBusFigures {
  /** Rooms whose subscribers are on this node. */
  readonly rooms: number;
  /** Events this node's publishers stored (every room). */
  readonly published: number;
  /** Room-channel events received from the other node, and Redis messages that carried them. */
  readonly roomEventsReceived: number;
  readonly roomMessagesReceived: number;
  /** This node's own room messages echoed back (it follows their room), counted but not parsed. */
  readonly ownEchoes: number;
  readonly controlMessagesReceived: number;
  readonly roomsFollowing: number;
}

/** What Redis itself did during the run, per message stored (both nodes' messages). */
export interface RedisFigures {
  readonly commandsPerMessage: number;
  readonly bytesInPerMessage: number;
  readonly bytesOutPerMessage: number;
  /** redis-server CPU (user + system) per message, µs. */
  readonly cpuMicrosPerMessage: number;
}

export interface BusResult extends BusOptions {
  readonly throughput: BurstResult;
  readonly nodes: readonly NodeBusFigures[];
  readonly redis: RedisFigures;
}

/** Redis' own counters (INFO stats) and its processes' CPU seconds. */
async function redisSnapshot(): Promise<{
  commands: number;
  bytesIn: number;
  bytesOut: number;
  cpu: number;
}> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('stats');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    let cpu = 0;
    for (const seconds of processTimes(['redis-server']).values()) cpu += seconds;
    return {
      commands: field('total_commands_processed'),
      bytesIn: field('total_net_input_bytes'),
      bytesOut: field('total_net_output_bytes'),
      cpu,
    };
  } finally {
    redis.disconnect();
  }
}

async function metricsOf(child: Child): Promise<(name: string, labels?: string) => number> {
  const series = await nodeMetrics(child.url);
  return (name, labels = '') => series(`${name}${labels}`) ?? 0;
}

export async function busScenario(o: BusOptions, say: (text: string) => void): Promise<BusResult> {
  const db = await createDatabase('bus');
  const subs: ClusterSubscriber[] = [];
  const pubs: ClusterPublisher[] = [];
  try {
    const children = await startClusterNodes(2, db.url, REDIS_URL);
    const token = await setUpPorthouse(children[0]!);
    const rooms = await createRooms(children[0]!, token, o.rooms);
    const endpoints = children.map((c, index) => ({ index, wsUrl: `${c.url.replace(/^http/, 'ws')}/v1/ws` }));
    const servedBy = (room: number) => (room < o.rooms / 2 ? 0 : 1);
    const tally = new Tally();
    for (const [i, room] of rooms.entries())
      for (let k = 0; k < o.subsPerRoom; k++)
        subs.push(await subscriber(endpoints[servedBy(i)]!, token, tally.hit, room));
    for (let p = 0; p < 2 * o.publishersPerNode; p++) {
      const mine = rooms.map((_, i) => rooms[(i + p) % rooms.length]!);
      pubs.push(await publisher(endpoints[p % 2]!, token, mine));
    }
    const run = {
      window: o.window,
      textBytes: o.textBytes,
      timeoutMs: 120_000,
      deliveriesPerMessage: o.subsPerRoom,
    };
    say(`2 nodes, ${o.rooms} rooms, half served by each: warm-up ... `);
    await burst(pubs, subs, tally, { ...run, messages: Math.round(o.messages / 5) });
    const before = await Promise.all(children.map(metricsOf));
    const redis0 = await redisSnapshot();
    const stored0 = before.map((m) => m('porthouse_messages_stored_total', '{via="ws"}'));
    say('run ... ');
    const throughput = await burst(pubs, subs, tally, { ...run, messages: o.messages });
    const redis1 = await redisSnapshot();
    // The counters of the last Redis messages may trail the last delivery by a moment.
    await new Promise((r) => setTimeout(r, 300));
    const after = await Promise.all(children.map(metricsOf));
    const delta = (i: number, name: string, labels?: string) =>
      after[i]!(name, labels) - before[i]!(name, labels);
    const nodes = children.map((_, i) => ({
      rooms: rooms.filter((_, r) => servedBy(r) === i).length,
      published: after[i]!('porthouse_messages_stored_total', '{via="ws"}') - stored0[i]!,
      roomEventsReceived: delta(i, 'porthouse_bus_events_received_total', '{channel="room"}'),
      roomMessagesReceived: delta(i, 'porthouse_bus_received_total', '{channel="room",origin="other"}'),
      ownEchoes: delta(i, 'porthouse_bus_received_total', '{channel="room",origin="own"}'),
      controlMessagesReceived: delta(i, 'porthouse_bus_received_total', '{channel="control",origin="other"}'),
      roomsFollowing: after[i]!('porthouse_bus_rooms_following'),
    }));
    say(
      `${nodes.map((n, i) => `node ${i} received ${n.roomEventsReceived} of the other's ${nodes[1 - i]!.published} events`).join(', ')}\n`,
    );
    // This benchmark's own INFO probes are two commands of the delta; nothing else is subtracted.
    const redis: RedisFigures = {
      commandsPerMessage: (redis1.commands - redis0.commands) / o.messages,
      bytesInPerMessage: (redis1.bytesIn - redis0.bytesIn) / o.messages,
      bytesOutPerMessage: (redis1.bytesOut - redis0.bytesOut) / o.messages,
      cpuMicrosPerMessage: ((redis1.cpu - redis0.cpu) * 1e6) / o.messages,
    };
    return { ...o, throughput, nodes, redis };
  } finally {
    for (const c of [...subs, ...pubs]) c.close();
    await stopChildren();
    await dropDatabase(db.name).catch(() => {});
  }
}
