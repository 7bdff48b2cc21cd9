// Socket doors benchmark: (1) TCP and IRC fan-out beside the WebSocket door, same porthouse, same
// run: N subscribers on each, bursts of 100-byte messages, delivered/s and server CPU µs per
// delivery; (2) UDP ingest: acked pubs/s from one client keeping a window of pubs in flight,
// beside a bare node:dgram server that only parses and answers.
//
//   npm run bench:sockets -- [--subscribers 100,500] [--deliveries 500000] [--udp-seconds 5]
//                            [--window 32]
//
// Writes .bench/sockets-<timestamp>.json. Loopback only; stops by itself.
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Child, abort, makeDataDir, startChild, startPorthouse, stopChildren } from './lib/children.js';
import {
  type ThroughputResult,
  porthouseIrcServer,
  porthouseServer,
  porthouseTcpServer,
  setUpPorthouse,
  throughput,
} from './lib/fanout-runs.js';
import { commitStats, cpuTimes, machineInfo } from './lib/machine.js';

const { values: flags } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '100,500' },
    deliveries: { type: 'string', default: '500000' },
    'udp-seconds': { type: 'string', default: '5' },
    window: { type: 'string', default: '32' },
  },
  strict: true,
});
const int = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  return n;
};
const SUBSCRIBERS = flags.subscribers.split(',').map((s) => int('subscribers', s.trim()));
const DELIVERIES = int('deliveries', flags.deliveries);
const UDP_SECONDS = int('udp-seconds', flags['udp-seconds']);
const WINDOW = int('window', flags.window);

const here = fileURLToPath(new URL('.', import.meta.url));
const DGRAM_PEER = join(here, 'peers', 'dgram-echo.js');

interface IngestResult {
  readonly acked: number;
  readonly seconds: number;
  readonly ackedPerSecond: number;
  readonly cpuMicrosPerPub: number;
  readonly timeouts: number;
  readonly messagesPerCommit?: number;
}

/**
 * Keep `WINDOW` pubs in flight to a UDP address for `UDP_SECONDS`; a pub unanswered for 1 s is
 * sent again with the same ref (and counted as a timeout).
 */
async function ingest(
  name: string,
  child: Child,
  port: number,
  token: string | undefined,
): Promise<IngestResult> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const inFlight = new Map<string, { bytes: Buffer; sentAt: number }>();
  let next = 0;
  let acked = 0;
  let timeouts = 0;
  let running = true;
  const text = 'x'.repeat(100);
  const send = () => {
    const ref = `${name}-${next++}`;
    const bytes = Buffer.from(
      JSON.stringify({ type: 'pub', room: 'bench', text, ref, ...(token ? { token } : {}) }),
    );
    inFlight.set(ref, { bytes, sentAt: performance.now() });
    socket.send(bytes, port, '127.0.0.1');
  };
  socket.on('message', (msg) => {
    const ref = (JSON.parse(String(msg)) as { ref?: string }).ref;
    if (ref === undefined || !inFlight.delete(ref)) return;
    acked++;
    if (running) send();
  });
  const retry = setInterval(() => {
    const now = performance.now();
    for (const [, p] of inFlight)
      if (now - p.sentAt > 1000) {
        timeouts++;
        p.sentAt = now;
        socket.send(p.bytes, port, '127.0.0.1');
      }
  }, 100);
  const commits0 = name === 'porthouse' ? await commitStats(child.url) : undefined;
  const cpu0 = cpuTimes(child.pid);
  const t0 = performance.now();
  for (let i = 0; i < WINDOW; i++) send();
  await new Promise((r) => setTimeout(r, UDP_SECONDS * 1000));
  running = false;
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpuTimes(child.pid);
  const ackedAtEnd = acked;
  clearInterval(retry);
  await new Promise((r) => setTimeout(r, 300));
  socket.close();
  const commits1 = commits0 ? await commitStats(child.url) : undefined;
  return {
    acked: ackedAtEnd,
    seconds,
    ackedPerSecond: ackedAtEnd / seconds,
    cpuMicrosPerPub: ((cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1e6) / ackedAtEnd,
    timeouts,
    ...(commits0 && commits1
      ? { messagesPerCommit: (commits1.writes - commits0.writes) / (commits1.commits - commits0.commits) }
      : {}),
  };
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';

async function main(): Promise<number> {
  setTimeout(() => void abort('took longer than 10 minutes', 3), 600_000).unref();
  const machine = machineInfo();
  process.stdout.write(
    `porthouse socket doors benchmark\ndate: ${machine.date}\nnode: ${machine.node}\ncpu: ${machine.cpu} (${machine.cores} cores)\ncode: ${machine.commit}\n`,
  );
  const dataDir = makeDataDir();
  const [porthouse, dgram] = await Promise.all([
    startPorthouse('porthouse', dataDir),
    startChild('dgram', [DGRAM_PEER], /dgram listening on (udp:\/\/\S+)/, { ipc: true }),
  ]);
  const token = await setUpPorthouse(porthouse);
  // The door ports, from porthouse's own listing.
  const admin = await fetch(`${porthouse.url}/v1/sockets`, { headers: { authorization: `Bearer ${token}` } });
  if (admin.status !== 403)
    throw new Error(`expected the bench user to be refused /v1/sockets, got ${admin.status}`);
  const ports = await portsOf(porthouse);

  const fanout: { n: number; ws: ThroughputResult; tcp: ThroughputResult; irc: ThroughputResult }[] = [];
  const options = { burst: 100, deliveries: DELIVERIES, textBytes: 100 };
  for (const n of SUBSCRIBERS) {
    process.stdout.write(`${n} subscribers: ws ... `);
    const ws = await throughput(porthouseServer(porthouse, token), n, options);
    process.stdout.write(`${fmt(ws.deliveredPerSecond)}/s, ${fmt(ws.cpuMicrosPerDelivery, 2)} µs; tcp ... `);
    const tcp = await throughput(porthouseTcpServer(porthouse, token, ports.tcp), n, options);
    process.stdout.write(
      `${fmt(tcp.deliveredPerSecond)}/s, ${fmt(tcp.cpuMicrosPerDelivery, 2)} µs; irc ... `,
    );
    const irc = await throughput(porthouseIrcServer(porthouse, token, ports.irc), n, options);
    process.stdout.write(`${fmt(irc.deliveredPerSecond)}/s, ${fmt(irc.cpuMicrosPerDelivery, 2)} µs\n`);
    fanout.push({ n, ws, tcp, irc });
  }
  process.stdout.write('UDP ingest: porthouse ... ');
  const udpPorthouse = await ingest('porthouse', porthouse, ports.udp, token);
  process.stdout.write(`${fmt(udpPorthouse.ackedPerSecond)} acked pubs/s; bare dgram ... `);
  const udpBare = await ingest('dgram', dgram, Number(new URL(dgram.url).port), undefined);
  process.stdout.write(`${fmt(udpBare.ackedPerSecond)}/s\n`);
  await stopChildren();

  const rows = [
    [
      'subscribers',
      'ws delivered/s',
      'tcp delivered/s',
      'irc delivered/s',
      'ws CPU µs/delivery',
      'tcp CPU µs/delivery',
      'irc CPU µs/delivery',
      'irc ÷ tcp',
    ],
    ['---', '---', '---', '---', '---', '---', '---', '---'],
    ...fanout.map((f) => [
      fmt(f.n),
      fmt(f.ws.deliveredPerSecond),
      fmt(f.tcp.deliveredPerSecond),
      fmt(f.irc.deliveredPerSecond),
      fmt(f.ws.cpuMicrosPerDelivery, 2),
      fmt(f.tcp.cpuMicrosPerDelivery, 2),
      fmt(f.irc.cpuMicrosPerDelivery, 2),
      fmt(f.irc.cpuMicrosPerDelivery / f.tcp.cpuMicrosPerDelivery, 2),
    ]),
  ];
  const udpRows = [
    ['UDP ingest', 'acked/s', 'CPU µs per pub', 'retries'],
    ['---', '---', '---', '---'],
    [
      'porthouse (durable pub, ack)',
      fmt(udpPorthouse.ackedPerSecond),
      fmt(udpPorthouse.cpuMicrosPerPub, 1),
      fmt(udpPorthouse.timeouts),
    ],
    [
      'bare dgram (parse, answer)',
      fmt(udpBare.ackedPerSecond),
      fmt(udpBare.cpuMicrosPerPub, 1),
      fmt(udpBare.timeouts),
    ],
  ];
  const table = (r: string[][]) => r.map((x) => `| ${x.join(' | ')} |`).join('\n');
  process.stdout.write(
    `\n${table(rows)}\n\n${table(udpRows)}\nratio ${fmt(udpPorthouse.ackedPerSecond / udpBare.ackedPerSecond, 2)}; ` +
      `${udpPorthouse.messagesPerCommit ? `${fmt(udpPorthouse.messagesPerCommit, 1)} pubs per commit; ` : ''}window ${WINDOW}, ${UDP_SECONDS} s\n`,
  );
  mkdirSync('.bench', { recursive: true });
  const file = join('.bench', `sockets-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine,
        settings: { SUBSCRIBERS, DELIVERIES, UDP_SECONDS, WINDOW },
        fanout,
        udp: { porthouse: udpPorthouse, bare: udpBare },
      },
      null,
      2,
    ),
  );
  process.stdout.write(`\nwrote ${file}\n`);
  return 0;
}

/** The TCP, UDP and IRC ports porthouse printed at start-up. */
async function portsOf(child: Child): Promise<{ tcp: number; udp: number; irc: number }> {
  const lines = child.stdout();
  const tcp = /porthouse tcp listening on tcp:\/\/\S+:(\d+)/.exec(lines)?.[1];
  const udp = /porthouse udp listening on udp:\/\/\S+:(\d+)/.exec(lines)?.[1];
  const irc = /porthouse irc listening on irc:\/\/\S+:(\d+)/.exec(lines)?.[1];
  if (!tcp || !udp || !irc)
    throw new Error(`porthouse did not print its tcp, udp and irc addresses:\n${lines}`);
  return { tcp: Number(tcp), udp: Number(udp), irc: Number(irc) };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) =>
    void abort(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1),
);
