// Hostile network clients against a real server, each beside a legitimate client that measures
// its own service meanwhile: slowloris on HTTP (headers a byte at a time), WebSocket upgrades
// that never finish, TCP connections that never authenticate, and a UDP flood of subs from many
// loopback source addresses. Reports what the legitimate client saw and whether the limits
// engaged; loopback only, bounded in count and time.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { ServeProcess, type ServerMetrics, serverMetrics } from './serve-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface HostileOptions {
  /** Attacking connections (slowloris, half-open upgrades, unauthenticated TCP). */
  readonly connections: number;
  /** Source addresses of the UDP flood: 127.0.0.2 … 127.0.0.(1 + n). */
  readonly udpSources: number;
  /** Datagrams each UDP source sends, spread over `udpSeconds`. */
  readonly udpPerSource: number;
  readonly udpSeconds: number;
  /** Server limits, shortened so a run is quick: headersTimeout and wsAuthTimeout, ms. */
  readonly headersTimeout: number;
  readonly authTimeout: number;
  /** The server's maxConnectionsPerAddress; the attackers all come from 127.0.0.1. */
  readonly perAddress: number;
}

/** The legitimate clients' source address: not the attackers' (127.0.0.1), so the cap spares it. */
export const LEGIT_ADDRESS = '127.0.0.254';
const legitAgent = new Agent({ localAddress: LEGIT_ADDRESS });

export interface Latency {
  readonly requests: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface ScenarioResult {
  readonly name: string;
  /** Attacking sockets opened / closed by the server by the end. */
  readonly opened: number;
  readonly closedByServer: number;
  /** Refused on accept by the per-address cap (the server's own count). */
  readonly refused: number;
  /** Longest an attacking socket stayed open (ms), when the server closed them all. */
  readonly longestMs: number;
  /** The legitimate client during the attack. */
  readonly legit: Latency;
  /** The server's open file descriptors before, at the peak and after. */
  readonly fds: readonly [number, number, number];
  /** Heap, handles, timers and connections before the attack and after its sockets are gone. */
  readonly resources: { readonly before: ServerMetrics; readonly after: ServerMetrics };
  readonly notes: string[];
}

export interface UdpFloodResult {
  readonly name: string;
  readonly sources: number;
  readonly datagramsIn: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Largest bytes-out / bytes-in of any one source (must be ≤ 1). */
  readonly worstRatio: number;
  readonly legit: Latency;
  readonly resources: { readonly before: ServerMetrics; readonly after: ServerMetrics };
}

function latency(samples: number[], failed: number): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return {
    requests: samples.length + failed,
    failed,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: s.at(-1) ?? Number.NaN,
  };
}

export class HostileServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'porthouse-hostile-'));
  server: ServeProcess | undefined;
  url = '';
  tcpPort = 0;
  udpPort = 0;

  async start(o: HostileOptions): Promise<void> {
    this.server = await ServeProcess.startOnFreePorts(this.dir, [
      ...['--headers-timeout', String(o.headersTimeout), '--ws-auth-timeout', String(o.authTimeout)],
      ...['--max-connections-per-address', String(o.perAddress)],
    ]);
    ({ url: this.url, tcpPort: this.tcpPort, udpPort: this.udpPort } = this.server);
  }

  fds(): number {
    return this.server!.sample().fds;
  }

  /** Heap, handles, timers and open connections, asked from the legitimate client's address. */
  metrics(): Promise<ServerMetrics> {
    return serverMetrics(this.url, (u) => fetch(u, { dispatcher: legitAgent }));
  }

  async stop(): Promise<void> {
    await this.server?.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A user and a room for the legitimate clients. */
  async account(): Promise<string> {
    const body = JSON.stringify({ name: 'legit', password: 'correct horse battery' });
    const headers = { 'content-type': 'application/json' };
    await fetch(`${this.url}/v1/users`, { method: 'POST', headers, body });
    const t = (await (await fetch(`${this.url}/v1/tokens`, { method: 'POST', headers, body })).json()) as {
      token: string;
    };
    await fetch(`${this.url}/v1/rooms`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${t.token}` },
      body: JSON.stringify({ name: 'lobby' }),
    });
    return t.token;
  }
}

/** Open `n` TCP connections to `port`, `step` at a time; each writes `first` (if any). */
async function openMany(
  port: number,
  n: number,
  first?: string,
): Promise<{ sockets: Socket[]; closedAt: number[] }> {
  const sockets: Socket[] = [];
  const closedAt: number[] = [];
  const step = 200;
  for (let i = 0; i < n; i += step) {
    await Promise.all(
      Array.from({ length: Math.min(step, n - i) }, () => {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        s.on('data', () => {});
        s.once('close', () => closedAt.push(Date.now()));
        sockets.push(s);
        return new Promise<void>((r) => {
          s.once('connect', () => {
            if (first) s.write(first);
            r();
          });
          s.once('error', () => r());
        });
      }),
    );
  }
  return { sockets, closedAt };
}

/** REST GETs one after the other until `until` resolves; the legitimate client's view. */
async function legitRest(url: string, token: string, until: Promise<unknown>): Promise<Latency> {
  let done = false;
  void until.then(() => {
    done = true;
  });
  const samples: number[] = [];
  let failed = 0;
  while (!done) {
    const t0 = performance.now();
    try {
      const res = await fetch(`${url}/v1/rooms`, {
        dispatcher: legitAgent,
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      if (res.ok) samples.push(performance.now() - t0);
      else failed++;
    } catch {
      failed++;
    }
    // About 40 requests a second: within the per-user allowance (`rateRequestsPerSecond`, 50).
    await sleep(25);
  }
  return latency(samples, failed);
}

/** Slowloris (`upgrade` false) or a WebSocket upgrade that never finishes (`upgrade` true). */
export async function slowHeaders(
  server: HostileServer,
  token: string,
  o: HostileOptions,
  upgrade: boolean,
): Promise<ScenarioResult> {
  const port = Number(new URL(server.url).port);
  const before = server.fds();
  const resourcesBefore = await server.metrics();
  const started = Date.now();
  const first = upgrade
    ? 'GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    : 'GET /v1/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\n';
  const { sockets, closedAt } = await openMany(port, o.connections, first);
  const peak = server.fds();
  // Keep each one alive with a header byte a second, as slowloris does.
  const drip = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('X');
  }, 1000);
  const allClosed = (async () => {
    const deadline = Date.now() + o.headersTimeout + 5000;
    while (closedAt.length < sockets.length && Date.now() < deadline) await sleep(50);
  })();
  const legit = await legitRest(server.url, token, allClosed);
  clearInterval(drip);
  for (const s of sockets) s.destroy();
  // The sockets' last deadlines (a second's linger at most) run out before the comparison.
  await sleep(1500);
  const resourcesAfter = await server.metrics();
  return {
    name: upgrade ? 'WebSocket upgrades that never finish' : 'slowloris (headers a byte a second)',
    opened: sockets.length,
    closedByServer: closedAt.length,
    refused: resourcesAfter.refused - resourcesBefore.refused,
    longestMs: closedAt.length === sockets.length ? Math.max(...closedAt) - started : Number.NaN,
    legit,
    fds: [before, peak, server.fds()],
    resources: { before: resourcesBefore, after: resourcesAfter },
    notes: [],
  };
}

/** TCP connections that never send `auth`: the auth deadline must close every one. */
export async function unauthenticatedTcp(
  server: HostileServer,
  token: string,
  o: HostileOptions,
): Promise<ScenarioResult> {
  const before = server.fds();
  const resourcesBefore = await server.metrics();
  const started = Date.now();
  const { sockets, closedAt } = await openMany(server.tcpPort, o.connections);
  const peak = server.fds();
  const allClosed = (async () => {
    const deadline = Date.now() + o.authTimeout + 10_000;
    while (closedAt.length < sockets.length && Date.now() < deadline) await sleep(50);
  })();
  // The legitimate client: one authenticated TCP connection, pinging.
  const legit = connect({ port: server.tcpPort, host: '127.0.0.1', localAddress: LEGIT_ADDRESS });
  const samples: number[] = [];
  let failed = 0;
  let pending: { t0: number; resolve: () => void } | undefined;
  let buffer = '';
  legit.on('data', (d) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const f = JSON.parse(buffer.slice(0, nl)) as { type: string };
      buffer = buffer.slice(nl + 1);
      if (f.type === 'pong' && pending) {
        samples.push(performance.now() - pending.t0);
        pending.resolve();
        pending = undefined;
      }
    }
  });
  legit.write(`${JSON.stringify({ type: 'auth', token })}\n`);
  let done = false;
  void allClosed.then(() => {
    done = true;
  });
  while (!done) {
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      pending = {
        t0: performance.now(),
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      legit.write(`${JSON.stringify({ type: 'ping' })}\n`);
    });
    if (!ok) failed++;
    await sleep(5);
  }
  legit.destroy();
  for (const s of sockets) s.destroy();
  await sleep(1500);
  const resourcesAfter = await server.metrics();
  return {
    name: 'TCP connections that never authenticate',
    opened: sockets.length,
    closedByServer: closedAt.length,
    refused: resourcesAfter.refused - resourcesBefore.refused,
    longestMs: closedAt.length === sockets.length ? Math.max(...closedAt) - started : Number.NaN,
    legit: latency(samples, failed),
    fds: [before, peak, server.fds()],
    resources: { before: resourcesBefore, after: resourcesAfter },
    notes: [],
  };
}

/**
 * A flood of `sub` datagrams (valid token, no cookie: a spoofer cannot echo one) and garbage
 * from many loopback source addresses, while a legitimate UDP client publishes.
 */
export async function udpFlood(
  server: HostileServer,
  token: string,
  o: HostileOptions,
): Promise<UdpFloodResult> {
  const resourcesBefore = await server.metrics();
  const perSource = new Map<string, { in: number; out: number }>();
  let datagramsIn = 0;
  const floods = [];
  for (let i = 0; i < o.udpSources; i++) {
    const address = `127.0.0.${2 + i}`;
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, address, r));
    const tally = { in: 0, out: 0 };
    perSource.set(address, tally);
    socket.on('message', (msg) => {
      tally.out += msg.length;
    });
    floods.push(
      (async () => {
        const start = performance.now();
        const gap = (o.udpSeconds * 1000) / o.udpPerSource;
        for (let k = 0; k < o.udpPerSource; k++) {
          const frame =
            k % 4 === 3
              ? Buffer.from('{"type":')
              : Buffer.from(JSON.stringify({ type: 'sub', room: 'lobby', since: 0, ref: `f${k}`, token }));
          tally.in += frame.length;
          datagramsIn++;
          socket.send(frame, server.udpPort, '127.0.0.1');
          // On schedule, in small bursts (a timer per datagram would be the bottleneck).
          if (k % 20 === 19) {
            const wait = start + (k + 1) * gap - performance.now();
            if (wait > 0) await sleep(wait);
          }
        }
        await sleep(500);
        socket.close();
      })(),
    );
  }
  const flooding = Promise.all(floods);
  // The legitimate client publishes, re-sending a pub unanswered for 500 ms (same ref).
  const legit = createSocket('udp4');
  await new Promise<void>((r) => legit.bind(0, '127.0.0.1', r));
  const samples: number[] = [];
  let failed = 0;
  const waiting = new Map<string, () => void>();
  legit.on('message', (msg) => {
    const f = JSON.parse(String(msg)) as { ref?: string };
    if (f.ref) waiting.get(f.ref)?.();
  });
  let done = false;
  void flooding.then(() => {
    done = true;
  });
  for (let k = 0; !done; k++) {
    const ref = `legit-${k}`;
    const bytes = Buffer.from(JSON.stringify({ type: 'pub', room: 'lobby', text: `hello ${k}`, ref, token }));
    const t0 = performance.now();
    let acked = false;
    for (let attempt = 0; attempt < 6 && !acked; attempt++) {
      acked = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 500);
        waiting.set(ref, () => {
          clearTimeout(timer);
          resolve(true);
        });
        legit.send(bytes, server.udpPort, '127.0.0.1');
      });
    }
    waiting.delete(ref);
    if (acked) samples.push(performance.now() - t0);
    else failed++;
    // About 30 pubs a second: under the per-address allowance (`udpPerSecond`, 50).
    await sleep(30);
  }
  legit.close();
  let bytesIn = 0;
  let bytesOut = 0;
  let worstRatio = 0;
  for (const t of perSource.values()) {
    bytesIn += t.in;
    bytesOut += t.out;
    worstRatio = Math.max(worstRatio, t.in === 0 ? 0 : t.out / t.in);
  }
  return {
    name: 'UDP flood of subs from many source addresses',
    sources: o.udpSources,
    datagramsIn,
    bytesIn,
    bytesOut,
    worstRatio,
    legit: latency(samples, failed),
    resources: { before: resourcesBefore, after: await server.metrics() },
  };
}
