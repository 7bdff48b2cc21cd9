// Fan-out benchmark: N WebSocket subscribers in one room, one publisher, porthouse (the real
// CLI, durable defaults) beside a Socket.IO 4 server doing io.to(room).emit, in the same run,
// each in its own process, measured the same way from the same plain WebSocket clients.
//
//   npm run bench:fanout -- [--subscribers 100,500,2000] [--burst 100] [--deliveries 1000000]
//                           [--rate 20] [--latency-seconds 5] [--cpu-prof-dir DIR]
//
// Per N and server: (1) throughput: bursts of `burst` 100-byte messages, each burst sent once the
// previous one reached every subscriber; delivered messages/s and server CPU µs per delivered
// message (from /proc of the server process). (2) latency: `rate` messages/s for
// `latency-seconds`; p50/p99 from publish to receipt (one clock: publisher and subscribers are
// this process). Writes .bench/fanout-<timestamp>.json. Loopback only; stops by itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { type Child, abort, makeDataDir, startChild, stopChildren } from './lib/children.js';
import { commitStats, cpuTimes, machineInfo } from './lib/machine.js';

const { values: flags } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '100,500,2000' },
    burst: { type: 'string', default: '100' },
    deliveries: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '20' },
    'latency-seconds': { type: 'string', default: '5' },
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
const TEXT_BYTES = 100;
const TARGET_CPU_RATIO = 0.2;

const here = fileURLToPath(new URL('.', import.meta.url));
const PORTHOUSE_CLI = join(here, '..', 'src', 'cli', 'main.js');
const SOCKETIO_PEER = join(here, 'peers', 'socketio.js');

// ---------------------------------------------------------------------------------------------
// Clients: plain `ws` sockets for both servers, so the client side costs the same. Subscribers
// count message frames without parsing them, except during the latency run.

interface Subscriber {
  received: number;
  onMessage: ((text: string) => void) | undefined;
  close(): void;
}
interface Publisher {
  publish(text: string): void;
  close(): void;
}
interface Server {
  readonly name: 'porthouse' | 'socketio';
  readonly child: Child;
  subscriber(delivered: () => void): Promise<Subscriber>;
  publisher(): Promise<Publisher>;
  /** The text of a message frame, for the latency run. */
  textOf(data: string): string;
}

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function until(ws: WebSocket, match: (text: string) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within 10 s`)), 10_000);
    const onMessage = (data: Buffer) => {
      if (!match(data.toString())) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
  });
}

const MSG_PREFIX = Buffer.from('{"type":"msg"');

function porthouseServer(child: Child, token: string): Server {
  const url = `${child.url.replace(/^http/, 'ws')}/v1/ws`;
  const headers = { authorization: `Bearer ${token}` };
  return {
    name: 'porthouse',
    child,
    async subscriber(delivered) {
      const ws = await open(url, headers);
      const subbed = until(ws, (t) => t.startsWith('{"type":"subbed"'), 'subbed');
      ws.send(JSON.stringify({ type: 'sub', room: 'bench' }));
      await subbed;
      const sub: Subscriber = { received: 0, onMessage: undefined, close: () => ws.terminate() };
      ws.on('message', (data: Buffer) => {
        if (
          data.length < MSG_PREFIX.length ||
          data.compare(MSG_PREFIX, 0, MSG_PREFIX.length, 0, MSG_PREFIX.length) !== 0
        )
          return;
        sub.received++;
        sub.onMessage?.(data.toString());
        delivered();
      });
      return sub;
    },
    async publisher() {
      const ws = await open(url, headers);
      return {
        publish: (text) => ws.send(`{"type":"pub","room":"bench","text":${JSON.stringify(text)}}`),
        close: () => ws.terminate(),
      };
    },
    textOf: (data) => (JSON.parse(data) as { text: string }).text,
  };
}

function socketioServer(child: Child): Server {
  const base = `${child.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  // Engine.IO v4 over a plain WebSocket: "0{…}" open → "40" connect → "40{sid}"; "2" ping → "3".
  const connect = async (role: string) => {
    const ws = await open(`${base}&role=${role}`);
    const connected = until(ws, (t) => t.startsWith('40'), 'socket.io connect');
    ws.on('message', (data: Buffer) => {
      if (data.length === 1 && data[0] === 0x32) ws.send('3');
    });
    ws.send('40');
    await connected;
    return ws;
  };
  return {
    name: 'socketio',
    child,
    async subscriber(delivered) {
      const ws = await connect('sub');
      const sub: Subscriber = { received: 0, onMessage: undefined, close: () => ws.terminate() };
      ws.on('message', (data: Buffer) => {
        if (data[0] !== 0x34 || data[1] !== 0x32) return; // "42": an event
        sub.received++;
        sub.onMessage?.(data.toString());
        delivered();
      });
      return sub;
    },
    async publisher() {
      const ws = await connect('pub');
      return {
        publish: (text) => ws.send(`42["pub",{"room":"bench","text":${JSON.stringify(text)}}]`),
        close: () => ws.terminate(),
      };
    },
    textOf: (data) => (JSON.parse(data.slice(2)) as [string, { text: string }])[1].text,
  };
}

// ---------------------------------------------------------------------------------------------
// Runs

interface ThroughputResult {
  readonly messages: number;
  readonly deliveries: number;
  readonly seconds: number;
  readonly deliveredPerSecond: number;
  readonly serverCpuSeconds: number;
  /** The kernel's share of it (socket writes, fsync). */
  readonly serverSystemSeconds: number;
  readonly cpuMicrosPerDelivery: number;
  /** porthouse only: messages per group commit (one transaction, one fsync). */
  readonly messagesPerCommit?: number;
}
interface LatencyResult {
  readonly messages: number;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly lost: number;
  /** porthouse only: mean time of a group commit (with its fsync) during the run. */
  readonly meanCommitMs?: number;
}

/** A counter that resolves a promise when it reaches a target. */
class Tally {
  count = 0;
  #target = Number.POSITIVE_INFINITY;
  #resolve: (() => void) | undefined;
  readonly hit = () => {
    if (++this.count >= this.#target) {
      this.#target = Number.POSITIVE_INFINITY;
      this.#resolve?.();
    }
  };
  reach(target: number, timeoutMs: number, what: string): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what}: ${this.count} of ${target} deliveries after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#target = target;
      this.#resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

async function connectAll(server: Server, n: number, tally: Tally): Promise<Subscriber[]> {
  const subs: Subscriber[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, () => server.subscriber(tally.hit)),
    );
    subs.push(...batch);
  }
  return subs;
}

async function throughput(server: Server, n: number): Promise<ThroughputResult> {
  const tally = new Tally();
  const subs = await connectAll(server, n, tally);
  const pub = await server.publisher();
  const text = 'x'.repeat(TEXT_BYTES);
  try {
    // Warm-up (a tenth of the run, at least one burst): the JIT settles, and every subscriber is
    // proven to be in the room.
    const bursts = Math.max(1, Math.ceil(DELIVERIES / n / BURST));
    const warmup = Math.max(1, Math.round(bursts / 10));
    for (let b = 1; b <= warmup; b++) {
      for (let i = 0; i < BURST; i++) pub.publish(text);
      await tally.reach(n * BURST * b, 60_000, `${server.name} warm-up`);
    }
    tally.count = 0;
    const commits0 = server.name === 'porthouse' ? await commitStats(server.child.url) : undefined;
    const cpu0 = cpuTimes(server.child.pid);
    const t0 = performance.now();
    for (let b = 1; b <= bursts; b++) {
      for (let i = 0; i < BURST; i++) pub.publish(text);
      await tally.reach(n * BURST * b, 60_000, `${server.name} burst ${b}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuTimes(server.child.pid);
    const serverSystemSeconds = cpu1.system - cpu0.system;
    const serverCpuSeconds = cpu1.user - cpu0.user + serverSystemSeconds;
    const deliveries = n * BURST * bursts;
    const commits1 = commits0 ? await commitStats(server.child.url) : undefined;
    return {
      ...(commits0 && commits1
        ? { messagesPerCommit: (commits1.writes - commits0.writes) / (commits1.commits - commits0.commits) }
        : {}),
      messages: BURST * bursts,
      deliveries,
      seconds,
      deliveredPerSecond: deliveries / seconds,
      serverCpuSeconds,
      serverSystemSeconds,
      cpuMicrosPerDelivery: (serverCpuSeconds * 1e6) / deliveries,
    };
  } finally {
    pub.close();
    for (const s of subs) s.close();
  }
}

async function latency(server: Server, n: number): Promise<LatencyResult> {
  const tally = new Tally();
  const subs = await connectAll(server, n, tally);
  const pub = await server.publisher();
  const messages = RATE * LATENCY_SECONDS;
  const samples = new Float64Array(n * messages);
  let taken = 0;
  for (const s of subs)
    s.onMessage = (data) => {
      const sent = Number(server.textOf(data).split('|', 1)[0]);
      if (taken < samples.length) samples[taken++] = performance.now() - sent;
    };
  const commits0 = server.name === 'porthouse' ? await commitStats(server.child.url) : undefined;
  try {
    const gap = 1000 / RATE;
    const start = performance.now();
    for (let i = 0; i < messages; i++) {
      // A fixed schedule, not "sleep after send", so a slow server cannot lower the rate.
      const due = start + i * gap;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pub.publish(`${performance.now().toFixed(3)}|`.padEnd(TEXT_BYTES, 'x'));
    }
    await tally.reach(n * messages, 30_000, `${server.name} latency run`).catch(() => {});
    const commits1 = commits0 ? await commitStats(server.child.url) : undefined;
    const sorted = Array.from(samples.subarray(0, taken)).sort((a, b) => a - b);
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
    return {
      messages,
      samples: taken,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted.at(-1) ?? Number.NaN,
      lost: n * messages - taken,
      ...(commits0 && commits1
        ? {
            meanCommitMs:
              ((commits1.seconds - commits0.seconds) * 1000) / (commits1.commits - commits0.commits),
          }
        : {}),
    };
  } finally {
    pub.close();
    for (const s of subs) s.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Main

async function setUpPorthouse(child: Child): Promise<string> {
  const call = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(child.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`set-up ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { token?: string };
  };
  await call('/v1/users', { name: 'bench', password: 'bench password' });
  const { token } = await call('/v1/tokens', { name: 'bench', password: 'bench password' });
  await call('/v1/rooms', { name: 'bench' }, token);
  return token!;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

async function main(): Promise<number> {
  const budget = (SUBSCRIBERS.length * 2 * (LATENCY_SECONDS + 90) + 60) * 1000;
  setTimeout(() => void abort(`took longer than ${Math.round(budget / 1000)} s`, 3), budget).unref();
  const machine = machineInfo();
  process.stdout.write(
    `porthouse fan-out benchmark\ndate: ${machine.date}\nnode: ${machine.node}\ncpu: ${machine.cpu} (${machine.cores} cores)\ncode: ${machine.commit}\n` +
      `subscribers ${SUBSCRIBERS.join(', ')}; bursts of ${BURST} × ${TEXT_BYTES}-byte messages, about ${fmt(DELIVERIES)} deliveries per run; latency at ${RATE} msg/s for ${LATENCY_SECONDS} s\n`,
  );
  const dataDir = makeDataDir();
  const [porthouseChild, socketioChild] = await Promise.all([
    startChild(
      'porthouse',
      [
        ...(flags['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof-dir']}`] : []),
        PORTHOUSE_CLI,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--tcp-port',
        '0',
        '--udp-port',
        '0',
        '--data',
        dataDir,
        '--rate-limits',
        'off',
        '--log-level',
        'warn',
        ...(process.env['PH_EXTRA'] ? process.env['PH_EXTRA'].split(' ') : []),
      ],
      /porthouse http listening on (http:\/\/\S+)/,
    ),
    startChild('socketio', [SOCKETIO_PEER], /socketio listening on (http:\/\/\S+)/, { ipc: true }),
  ]);
  const token = await setUpPorthouse(porthouseChild);
  const servers = [porthouseServer(porthouseChild, token), socketioServer(socketioChild)];

  const rows: {
    n: number;
    results: Record<string, { throughput: ThroughputResult; latency: LatencyResult }>;
  }[] = [];
  for (const n of SUBSCRIBERS) {
    const results: Record<string, { throughput: ThroughputResult; latency: LatencyResult }> = {};
    for (const server of servers) {
      process.stdout.write(`${n} subscribers, ${server.name}: throughput ... `);
      const t = await throughput(server, n);
      process.stdout.write(
        `${fmt(t.deliveredPerSecond)}/s, ${fmt(t.cpuMicrosPerDelivery, 2)} µs CPU/delivery (${fmt((100 * t.serverSystemSeconds) / t.serverCpuSeconds)} % kernel${t.messagesPerCommit ? `, ${fmt(t.messagesPerCommit, 1)} messages/commit` : ''}); latency ... `,
      );
      await new Promise((r) => setTimeout(r, 500));
      const l = await latency(server, n);
      process.stdout.write(
        `p50 ${fmt(l.p50Ms, 2)} ms, p99 ${fmt(l.p99Ms, 2)} ms${l.meanCommitMs ? ` (commit ${fmt(l.meanCommitMs, 2)} ms)` : ''}\n`,
      );
      results[server.name] = { throughput: t, latency: l };
      await new Promise((r) => setTimeout(r, 500));
    }
    rows.push({ n, results });
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
  ];
  const lines = rows.map(({ n, results }) => {
    const p = results['porthouse']!;
    const s = results['socketio']!;
    const ratio = p.throughput.cpuMicrosPerDelivery / s.throughput.cpuMicrosPerDelivery;
    return [
      fmt(n),
      fmt(p.throughput.deliveredPerSecond),
      fmt(s.throughput.deliveredPerSecond),
      fmt(p.throughput.cpuMicrosPerDelivery, 2),
      fmt(s.throughput.cpuMicrosPerDelivery, 2),
      fmt(ratio, 2),
      ratio <= TARGET_CPU_RATIO ? 'yes' : 'NO',
      `${fmt(p.latency.p50Ms, 2)} / ${fmt(p.latency.p99Ms, 2)}`,
      `${fmt(s.latency.p50Ms, 2)} / ${fmt(s.latency.p99Ms, 2)}`,
      p.latency.p99Ms <= s.latency.p99Ms ? 'yes' : 'NO',
    ];
  });
  const table = [header, header.map(() => '---'), ...lines].map((r) => `| ${r.join(' | ')} |`).join('\n');
  process.stdout.write(`\n${table}\n`);
  for (const { n, results } of rows)
    for (const [name, r] of Object.entries(results))
      if (r.latency.lost > 0)
        process.stdout.write(`${name} at ${n}: ${r.latency.lost} latency deliveries missing\n`);
  mkdirSync('.bench', { recursive: true });
  const file = join('.bench', `fanout-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { machine, settings: { SUBSCRIBERS, BURST, DELIVERIES, RATE, LATENCY_SECONDS, TEXT_BYTES }, rows },
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
