// Fan-out benchmark: N WebSocket subscribers in one room, one publisher, porthouse (the real
// CLI, durable defaults) beside a Socket.IO 4 server doing io.to(room).emit, in the same run,
// each in its own process, measured the same way from the same plain WebSocket clients.
//
//   npm run bench:fanout -- [--subscribers 100,500,2000] [--burst 100] [--deliveries 1000000]
//                           [--rate 20] [--latency-seconds 30] [--rounds 6] [--cpu-prof-dir DIR]
//
// Per N and server: (1) throughput: bursts of `burst` 100-byte messages, each burst sent once the
// previous one reached every subscriber; delivered messages/s and server CPU µs per delivered
// message (from /proc of the server process). (2) latency: `rate` messages/s for
// `latency-seconds` per server; p50/p99 from publish to receipt (one clock: publisher and
// subscribers are this process). 30 s by default: 600 messages, so a p99 is not decided by one
// or two stalls. The time is cut into `rounds` that alternate between the servers, with every
// server's subscribers connected throughout, so a slow stretch of the VM falls on all alike.
// Latency is also measured for a second porthouse with `--sqlite-synchronous normal` (no disk
// sync per message; survives kill -9, not power loss), to show what the disk's sync costs, and
// throughput for a third with `--trace-messages 0` (no journeys kept), to show what tracing costs.
// Writes .bench/fanout-<timestamp>.json. Loopback only; stops by itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { abort, makeDataDir, startChild, startPorthouse, stopChildren } from './lib/children.js';
import {
  LatencyRun,
  type LatencyResult,
  type ThroughputResult,
  alternate,
  porthouseServer,
  setUpPorthouse,
  socketioServer,
  throughput,
} from './lib/fanout-runs.js';
import { machineInfo } from './lib/machine.js';

const { values: flags } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '100,500,2000' },
    burst: { type: 'string', default: '100' },
    deliveries: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '20' },
    'latency-seconds': { type: 'string', default: '30' },
    rounds: { type: 'string', default: '6' },
    'cpu-prof-dir': { type: 'string' },
  },
  strict: true,
});
const int = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  return n;
};
const SUBSCRIBERS = flags.subscribers.split(',').map((s) => int('subscribers', s.trim()));
const BURST = int('burst', flags.burst);
const DELIVERIES = int('deliveries', flags.deliveries);
const RATE = int('rate', flags.rate);
const LATENCY_SECONDS = int('latency-seconds', flags['latency-seconds']);
const ROUNDS = int('rounds', flags.rounds);
if (ROUNDS > RATE * LATENCY_SECONDS) throw new Error('--rounds may be at most rate × latency-seconds');
const TEXT_BYTES = 100;
const TARGET_CPU_RATIO = 0.2;

const here = fileURLToPath(new URL('.', import.meta.url));
const SOCKETIO_PEER = join(here, 'peers', 'socketio.js');
/** The second porthouse, latency only: WAL written at every commit, synced at checkpoints. */
const NO_SYNC = 'porthouse-normal';
/** The third, throughput only: the same node keeping no journeys (A/B for tracing's cost). */
const UNTRACED = 'porthouse-untraced';
/** Throughput runs of each side of the tracing A/B, per subscriber count. */
const AB_ROUNDS = 4;

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

async function main(): Promise<number> {
  // Per N: two throughput runs, then three latency runs of LATENCY_SECONDS each, plus connecting.
  const budget = (SUBSCRIBERS.length * (2 * 90 + 3 * (LATENCY_SECONDS + 30)) + 60) * 1000;
  setTimeout(() => void abort(`took longer than ${Math.round(budget / 1000)} s`, 3), budget).unref();
  const machine = machineInfo();
  process.stdout.write(
    `porthouse fan-out benchmark\ndate: ${machine.date}\nnode: ${machine.node}\ncpu: ${machine.cpu} (${machine.cores} cores)\ncode: ${machine.commit}\n` +
      `subscribers ${SUBSCRIBERS.join(', ')}; bursts of ${BURST} × ${TEXT_BYTES}-byte messages, about ${fmt(DELIVERIES)} deliveries per run; latency at ${RATE} msg/s for ${LATENCY_SECONDS} s per server, in ${ROUNDS} alternating rounds\n`,
  );
  const extra = process.env['PH_EXTRA'] ? process.env['PH_EXTRA'].split(' ') : [];
  const [porthouseChild, noSyncChild, untracedChild, socketioChild] = await Promise.all([
    startPorthouse(
      'porthouse',
      makeDataDir(),
      extra,
      flags['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof-dir']}`] : [],
    ),
    startPorthouse(NO_SYNC, makeDataDir(), [...extra, '--sqlite-synchronous', 'normal']),
    startPorthouse(UNTRACED, makeDataDir(), [...extra, '--trace-messages', '0']),
    startChild('socketio', [SOCKETIO_PEER], /socketio listening on (http:\/\/\S+)/, { ipc: true }),
  ]);
  const porthouse = porthouseServer(porthouseChild, await setUpPorthouse(porthouseChild));
  const noSync = porthouseServer(noSyncChild, await setUpPorthouse(noSyncChild), NO_SYNC);
  const untraced = porthouseServer(untracedChild, await setUpPorthouse(untracedChild), UNTRACED);
  const socketio = socketioServer(socketioChild);

  const rows: {
    n: number;
    throughput: Record<string, ThroughputResult>;
    latency: Record<string, LatencyResult>;
    /** Median CPU µs per delivery over the A/B rounds, journeys kept and not. */
    tracing?: { traced: number; untraced: number };
  }[] = [];
  for (const n of SUBSCRIBERS) {
    const row: (typeof rows)[number] = { n, throughput: {}, latency: {} };

    // porthouse and Socket.IO once each; the tracing A/B as alternating pairs (traced first,
    // then untraced first, …), each side's median kept, since one run of each swings by more
    // than tracing costs.
    const order = [
      porthouse,
      socketio,
      ...Array.from({ length: AB_ROUNDS }, (_, i) =>
        i % 2 ? [untraced, porthouse] : [porthouse, untraced],
      ).flat(),
    ];
    const samples = new Map<string, ThroughputResult[]>();
    for (const server of order) {
      process.stdout.write(`${n} subscribers, ${server.name}: throughput ... `);
      const t = await throughput(server, n, { burst: BURST, deliveries: DELIVERIES, textBytes: TEXT_BYTES });
      process.stdout.write(
        `${fmt(t.deliveredPerSecond)}/s, ${fmt(t.cpuMicrosPerDelivery, 2)} µs CPU/delivery (${fmt((100 * t.serverSystemSeconds) / t.serverCpuSeconds)} % kernel${t.messagesPerCommit ? `, ${fmt(t.messagesPerCommit, 1)} messages/commit` : ''})\n`,
      );
      row.throughput[server.name] ??= t;
      samples.set(server.name, [...(samples.get(server.name) ?? []), t]);
      await new Promise((r) => setTimeout(r, 500));
    }
    const median = (name: string) => {
      const xs = (samples.get(name) ?? []).map((t) => t.cpuMicrosPerDelivery).sort((a, b) => a - b);
      return xs[Math.floor(xs.length / 2)] ?? Number.NaN;
    };
    row.tracing = { traced: median(porthouse.name), untraced: median(UNTRACED) };
    const options = { rate: RATE, seconds: LATENCY_SECONDS, rounds: ROUNDS, textBytes: TEXT_BYTES };
    const runs: LatencyRun[] = [];
    try {
      for (const server of [porthouse, noSync, socketio])
        runs.push(await LatencyRun.open(server, n, options));
      await alternate(runs, ROUNDS);
    } finally {
      for (const run of runs) run.close();
    }
    for (const run of runs) {
      const l = run.result();
      row.latency[run.server.name] = l;
      process.stdout.write(
        `${n} subscribers, ${run.server.name}: latency p50 ${fmt(l.p50Ms, 2)} ms, p99 ${fmt(l.p99Ms, 2)} ms; ` +
          `first delivery p50/p99 ${fmt(l.firstP50Ms, 2)}/${fmt(l.firstP99Ms, 2)} ms, first to last p50/p99 ${fmt(l.spreadP50Ms, 2)}/${fmt(l.spreadP99Ms, 2)} ms` +
          (l.meanCommitMs ? `; commit ${fmt(l.meanCommitMs, 2)} ms` : '') +
          (l.meanSyncMs ? `, disk sync ${fmt(l.meanSyncMs, 2)} ms mean, ${l.slowSyncs} over 5 ms` : '') +
          '\n',
      );
    }
    rows.push(row);
    await new Promise((r) => setTimeout(r, 500));
  }
  await stopChildren();

  const header = [
    'subscribers',
    'porthouse delivered/s',
    'socket.io delivered/s',
    'porthouse CPU µs/delivery',
    'socket.io CPU µs/delivery',
    'CPU ratio',
    `met (≤ ${TARGET_CPU_RATIO})`,
    'porthouse p50/p99 ms',
    'socket.io p50/p99 ms',
    'p99 met',
    'porthouse `normal` p50/p99 ms',
    `traced / untraced CPU µs/delivery (median of ${AB_ROUNDS})`,
    'traced ÷ untraced',
  ];
  const lines = rows.map(({ n, throughput: t, latency: l, tracing: tr }) => {
    const p = t['porthouse']!;
    const s = t['socketio']!;
    const ratio = p.cpuMicrosPerDelivery / s.cpuMicrosPerDelivery;
    const pl = l['porthouse']!;
    const sl = l['socketio']!;
    const nl = l[NO_SYNC]!;
    return [
      fmt(n),
      fmt(p.deliveredPerSecond),
      fmt(s.deliveredPerSecond),
      fmt(p.cpuMicrosPerDelivery, 2),
      fmt(s.cpuMicrosPerDelivery, 2),
      fmt(ratio, 2),
      ratio <= TARGET_CPU_RATIO ? 'yes' : 'NO',
      `${fmt(pl.p50Ms, 2)} / ${fmt(pl.p99Ms, 2)}`,
      `${fmt(sl.p50Ms, 2)} / ${fmt(sl.p99Ms, 2)}`,
      pl.p99Ms <= sl.p99Ms ? 'yes' : 'NO',
      `${fmt(nl.p50Ms, 2)} / ${fmt(nl.p99Ms, 2)}`,
      `${fmt(tr!.traced, 2)} / ${fmt(tr!.untraced, 2)}`,
      fmt(tr!.traced / tr!.untraced, 2),
    ];
  });
  const table = [header, header.map(() => '---'), ...lines].map((r) => `| ${r.join(' | ')} |`).join('\n');
  process.stdout.write(`\n${table}\n`);
  for (const { n, latency: l } of rows)
    for (const [name, r] of Object.entries(l))
      if (r.lost > 0) process.stdout.write(`${name} at ${n}: ${r.lost} latency deliveries missing\n`);
  mkdirSync('.bench', { recursive: true });
  const file = join('.bench', `fanout-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine,
        settings: { SUBSCRIBERS, BURST, DELIVERIES, RATE, LATENCY_SECONDS, ROUNDS, TEXT_BYTES },
        rows,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`\nwrote ${file}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) =>
    void abort(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1),
);
