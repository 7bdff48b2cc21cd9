// The cluster benchmark's store part: how many messages one node stores per second, on SQLite and
// on PostgreSQL, into one room and into many. Publishers only (no subscriber, so fan-out costs
// nothing): WebSocket connections, each sending to the rooms in turn with at most `window` unacked
// pubs; stored/s counts acks, and an ack is sent only once the message is durable.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Child, makeDataDir, startPorthouse, stopChildren } from './children.js';
import { type BurstResult, type ClusterPublisher, burst, publisher } from './cluster-runs.js';
import { Tally, setUpPorthouse } from './fanout-runs.js';
import { commitStats } from './machine.js';
import { type CpuUse, cpuSnapshot, cpuUse } from './procstat.js';
import { createDatabase, dropDatabase, messageBytes, roomRowUpdates } from './services.js';

export interface StoredOptions {
  readonly store: 'sqlite' | 'postgres';
  readonly rooms: number;
  readonly publishers: number;
  readonly messages: number;
  readonly window: number;
  readonly textBytes: number;
}

export interface StoredResult extends StoredOptions {
  readonly throughput: BurstResult;
  readonly cpu: CpuUse;
  /** Node CPU (user + system) per stored message, µs. */
  readonly nodeCpuMicrosPerMessage: number;
  /** PostgreSQL + Redis CPU per stored message, µs. */
  readonly servicesCpuMicrosPerMessage: number;
  readonly messagesPerCommit: number;
  readonly meanCommitMs: number;
  /** Statements per group commit (PostgreSQL; BEGIN and COMMIT included). */
  readonly statementsPerCommit: number;
  /** Updates of room rows per stored message, from PostgreSQL's own statistics, warm-up included. */
  readonly roomUpdatesPerMessage: number;
  /** PostgreSQL bytes (messages and idempotency keys, with their indexes) per stored message. */
  readonly postgresBytesPerMessage: number;
}

const SERVICES = ['postgres', 'redis-server'];

/** Room names r0, r1, … created by the bench user; returns them. */
export async function createRooms(child: Child, token: string, n: number): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `r${i}`);
  for (const name of names) {
    const res = await fetch(`${child.url}/v1/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name }),
    });
    if (res.status !== 201) throw new Error(`create room ${name}: ${res.status} ${await res.text()}`);
  }
  return names;
}

export async function storedScenario(o: StoredOptions, say: (text: string) => void): Promise<StoredResult> {
  const db = o.store === 'postgres' ? await createDatabase(`stored${o.rooms}`) : undefined;
  const pubs: ClusterPublisher[] = [];
  try {
    const dir = join(makeDataDir(), 'node');
    mkdirSync(dir);
    const child = await startPorthouse(`${o.store}-node`, dir, [
      ...(db ? ['--postgres', db.url] : []),
      ...['--scrypt-cost', '10'],
    ]);
    const token = await setUpPorthouse(child);
    const rooms = o.rooms === 1 ? ['bench'] : await createRooms(child, token, o.rooms);
    const endpoint = { index: 0, wsUrl: `${child.url.replace(/^http/, 'ws')}/v1/ws` };
    for (let p = 0; p < o.publishers; p++) {
      // Each publisher starts at another room, so every room is written at once.
      const mine = rooms.map((_, i) => rooms[(i + p) % rooms.length]!);
      pubs.push(await publisher(endpoint, token, mine));
    }
    const tally = new Tally();
    const run = { window: o.window, textBytes: o.textBytes, timeoutMs: 120_000 };
    say(`${o.store}, ${o.rooms} room${o.rooms > 1 ? 's' : ''}: warm-up ... `);
    await burst(pubs, [], tally, { ...run, messages: Math.round(o.messages / 5) });
    const c0 = await commitStats(child.url);
    const cpu0 = cpuSnapshot([child.pid], SERVICES);
    say('stored ... ');
    const throughput = await burst(pubs, [], tally, { ...run, messages: o.messages });
    const cpu = cpuUse(cpu0, cpuSnapshot([child.pid], SERVICES));
    const c1 = await commitStats(child.url);
    const commits = c1.commits - c0.commits;
    const result = {
      ...o,
      throughput,
      cpu,
      nodeCpuMicrosPerMessage: (cpu.pidsSeconds * 1e6) / o.messages,
      servicesCpuMicrosPerMessage: (cpu.namedSeconds * 1e6) / o.messages,
      messagesPerCommit: (c1.writes - c0.writes) / commits,
      meanCommitMs: ((c1.seconds - c0.seconds) * 1000) / commits,
      statementsPerCommit: (c1.statements - c0.statements) / commits,
      roomUpdatesPerMessage: Number.NaN,
      postgresBytesPerMessage: Number.NaN,
    };
    for (const p of pubs.splice(0)) p.close();
    await stopChildren();
    // The node's connections are closed: PostgreSQL has counted their updates by now.
    if (db) {
      await new Promise((r) => setTimeout(r, 500));
      const stored = o.messages + Math.round(o.messages / 5);
      result.roomUpdatesPerMessage = (await roomRowUpdates(db.name)) / stored;
      result.postgresBytesPerMessage = (await messageBytes(db.name)) / stored;
    }
    say(
      `${Math.round(throughput.storedPerSecond).toLocaleString('en-US')} stored/s, ${result.nodeCpuMicrosPerMessage.toFixed(1)} µs node CPU/message\n`,
    );
    return result;
  } finally {
    for (const p of pubs) p.close();
    await stopChildren();
    if (db) await dropDatabase(db.name).catch(() => {});
  }
}
