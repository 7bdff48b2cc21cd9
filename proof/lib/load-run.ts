// Many connections on one node: WebSocket, TCP, SSE and IRC subscribers spread over rooms and over
// loopback source addresses (so neither ephemeral ports nor the per-address cap run out), first
// idle, to measure what each connection costs the server, then under a steady publish rate, to
// measure deliveries per second, latency from pub to receipt, and the server's CPU. Every
// subscriber must get every message of its room once, in seq order. Loopback only; it stops by
// itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { WebSocket } from 'ws';
import { type ProcessSample, ServeProcess, serverMetrics } from './serve-process.js';
import { type SubscriberDoor, subscribe } from './subscribers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoadOptions {
  readonly ws: number;
  readonly tcp: number;
  readonly sse: number;
  /** IRC subscribers (0 when omitted). */
  readonly irc?: number;
  readonly rooms: number;
  readonly users: number;
  /** Loopback source addresses the subscribers are spread over: 127.0.1.1, 127.0.1.2, … */
  readonly addresses: number;
  /** Messages per second, all publishers together. */
  readonly rate: number;
  readonly seconds: number;
  readonly publishers: number;
  readonly log?: (line: string) => void;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface LoadReport {
  readonly connections: { ws: number; tcp: number; sse: number; irc: number };
  readonly connectSeconds: number;
  /** Server samples: after set-up, after each door's connections, all idle. */
  readonly memory: {
    base: ProcessSample;
    ws: ProcessSample;
    tcp: ProcessSample;
    sse: ProcessSample;
    irc: ProcessSample;
  };
  /** Server heap in use (from /metrics) at the same points. */
  readonly heap: { base: number; idle: number };
  readonly publish: {
    readonly seconds: number;
    readonly sent: number;
    readonly acked: number;
    readonly expected: number;
    readonly delivered: number;
    readonly missing: number;
    readonly duplicates: number;
    readonly outOfOrder: number;
    readonly deliveredPerSecond: number;
    readonly latencyMs: Percentiles;
    /** Server CPU over the publish window: share of one core, and per delivery. */
    readonly serverCores: number;
    readonly cpuMicrosPerDelivery: number;
  };
  readonly fdsAfterClose: { base: number; after: number };
}

/** The n-th subscriber's source address: 127.0.1.1 … spread over `count`. */
const sourceAddress = (i: number, count: number) => {
  const k = i % count;
  return `127.0.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`;
};

function percentiles(xs: number[]): Percentiles {
  const s = Float64Array.from(xs).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s.at(-1) ?? Number.NaN };
}

/** One subscriber's view of its room: the seqs it got, checked as they come. */
class Inbox {
  last = -1;
  received = 0;
  duplicates = 0;
  outOfOrder = 0;

  constructor(
    readonly room: string,
    private readonly run: Run,
  ) {}

  /** A `msg` frame for this subscriber. */
  take(seq: number, text: string): void {
    if (this.last >= 0 && seq <= this.last) this.duplicates++;
    else if (this.last >= 0 && seq !== this.last + 1) this.outOfOrder++;
    this.last = Math.max(this.last, seq);
    this.received++;
    this.run.delivered(text);
  }
}

/** The state one run shares between its publishers and subscribers. */
class Run {
  readonly sentAt = new Map<string, number>();
  readonly latencies: number[] = [];
  deliveries = 0;

  delivered(text: string): void {
    this.deliveries++;
    const t0 = this.sentAt.get(text);
    if (t0 !== undefined) this.latencies.push(performance.now() - t0);
  }
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'porthouse-load-'));
  const server = await ServeProcess.startOnFreePorts(dir);
  const agents = new Map<string, Agent>();
  const agentFor = (address: string) => {
    let a = agents.get(address);
    if (!a) {
      a = new Agent({ localAddress: address });
      agents.set(address, a);
    }
    return a;
  };
  const sockets: { close(): void }[] = [];
  try {
    const base = server.url;
    const http = Number(new URL(base).port);
    // Users and rooms, made from many addresses so the per-address login limit is not the test.
    const tokens: string[] = [];
    const json = { 'content-type': 'application/json' };
    for (let u = 0; u < o.users; u++) {
      const dispatcher = agentFor(sourceAddress(u, o.addresses));
      const body = JSON.stringify({ name: `load${u}`, password: 'correct horse battery' });
      await (
        await fetch(`${base}/v1/users`, { method: 'POST', headers: json, body, dispatcher })
      ).arrayBuffer();
      const t = await fetch(`${base}/v1/tokens`, { method: 'POST', headers: json, body, dispatcher });
      const got = (await t.json()) as { token?: string };
      if (!got.token) throw new Error(`login of load${u} failed: ${t.status} ${JSON.stringify(got)}`);
      tokens.push(got.token);
    }
    const rooms = Array.from({ length: o.rooms }, (_, r) => `load-${r}`);
    for (const [r, name] of rooms.entries()) {
      const res = await fetch(`${base}/v1/rooms`, {
        method: 'POST',
        // One owner for every room: the publishers speak as that user, a member everywhere.
        headers: { ...json, authorization: `Bearer ${tokens[0]}` },
        body: JSON.stringify({ name }),
        dispatcher: agentFor(sourceAddress(r, o.addresses)),
      });
      await res.arrayBuffer();
    }
    for (const a of agents.values()) await a.close();
    agents.clear();
    await sleep(2000);
    const baseSample = server.sample();
    const heapBase = (await serverMetrics(base)).heap;
    const run = new Run();
    const inboxes: Inbox[] = [];
    const t0 = performance.now();

    // Subscribers door by door (a hundred handshakes at a time), the server sampled after each.
    const open = (door: SubscriberDoor, count: number, first: number) =>
      inBatches(count, 100, async (j) => {
        const i = first + j;
        const inbox = new Inbox(rooms[i % rooms.length]!, run);
        inboxes.push(inbox);
        const options = {
          httpPort: http,
          tcpPort: server.tcpPort,
          ircPort: server.ircPort,
          token: tokens[i % tokens.length]!,
          room: inbox.room,
          localAddress: sourceAddress(i, o.addresses),
        };
        const sub = await subscribe(door, options, (seq, text) => inbox.take(seq, text));
        sockets.push({ close: () => sub.drop() });
      });
    await open('ws', o.ws, 0);
    log(`${o.ws} WebSocket subscribers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(2000);
    const wsSample = server.sample();
    await open('tcp', o.tcp, o.ws);
    await sleep(2000);
    const tcpSample = server.sample();
    await open('sse', o.sse, o.ws + o.tcp);
    await sleep(3000);
    const sseSample = server.sample();
    const irc = o.irc ?? 0;
    await open('irc', irc, o.ws + o.tcp + o.sse);
    const connectSeconds = (performance.now() - t0) / 1000;
    log(`${o.ws + o.tcp + o.sse + irc} subscribers connected in ${connectSeconds.toFixed(1)} s`);
    await sleep(3000);
    const ircSample = server.sample();
    const heapIdle = (await serverMetrics(base)).heap;

    // Publishers: WebSocket connections of the rooms' owner from their own address, round robin
    // over the rooms (each within its per-connection pub allowance, framePubPerSecond).
    const pubs = await Promise.all(
      Array.from({ length: o.publishers }, async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${http}/v1/ws`, {
          headers: { authorization: `Bearer ${tokens[0]}` },
          localAddress: '127.0.0.254',
          perMessageDeflate: false,
        });
        sockets.push({ close: () => ws.terminate() });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        return ws;
      }),
    );
    const subscribersOf = new Map<string, number>();
    for (const inbox of inboxes) subscribersOf.set(inbox.room, (subscribersOf.get(inbox.room) ?? 0) + 1);
    let acked = 0;
    let expected = 0;
    const ackedRooms = new Map<string, string>();
    const ackedIn = new Map<string, number>();
    for (const ws of pubs)
      ws.on('message', (data) => {
        const f = JSON.parse(String(data)) as { type: string; ref?: string; room?: string };
        if (f.type === 'ack' && f.ref) {
          const room = ackedRooms.get(f.ref) ?? '';
          acked++;
          ackedIn.set(room, (ackedIn.get(room) ?? 0) + 1);
          expected += subscribersOf.get(room) ?? 0;
        }
      });
    const deliveredBefore = run.deliveries;
    const cpuBefore = server.sample().cpu;
    const start = performance.now();
    let sent = 0;
    const total = Math.round(o.rate * o.seconds);
    while (sent < total) {
      // Catch up to the schedule every millisecond or so, so the rate is steady, not bursty.
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate));
      for (; sent < due; sent++) {
        const room = rooms[sent % rooms.length]!;
        const text = `m${sent}`;
        const ref = `r${sent}`;
        ackedRooms.set(ref, room);
        run.sentAt.set(text, performance.now());
        pubs[sent % pubs.length]!.send(JSON.stringify({ type: 'pub', room, text, ref }));
      }
      await sleep(1);
    }
    const publishSeconds = (performance.now() - start) / 1000;
    // Everything acknowledged reaches everyone, or the run says what is missing.
    const drainUntil = Date.now() + 15_000;
    while ((acked < sent || run.deliveries - deliveredBefore < expected) && Date.now() < drainUntil)
      await sleep(50);
    const windowSeconds = (performance.now() - start) / 1000;
    const cpu = server.sample().cpu - cpuBefore;
    const delivered = run.deliveries - deliveredBefore;
    const latencies = run.latencies;
    log(`published ${sent} in ${publishSeconds.toFixed(1)} s; ${delivered} of ${expected} delivered`);

    for (const s of sockets) s.close();
    sockets.length = 0;
    await sleep(3000);
    const fdsAfter = server.sample().fds;
    return {
      connections: { ws: o.ws, tcp: o.tcp, sse: o.sse, irc },
      connectSeconds,
      memory: { base: baseSample, ws: wsSample, tcp: tcpSample, sse: sseSample, irc: ircSample },
      heap: { base: heapBase, idle: heapIdle },
      publish: {
        seconds: publishSeconds,
        sent,
        acked,
        expected,
        delivered,
        missing: inboxes.reduce((n, b) => n + Math.max(0, (ackedIn.get(b.room) ?? 0) - b.received), 0),
        duplicates: inboxes.reduce((n, b) => n + b.duplicates, 0),
        outOfOrder: inboxes.reduce((n, b) => n + b.outOfOrder, 0),
        deliveredPerSecond: delivered / windowSeconds,
        latencyMs: percentiles(latencies),
        serverCores: cpu / windowSeconds,
        cpuMicrosPerDelivery: (cpu * 1e6) / Math.max(1, delivered),
      },
      fdsAfterClose: { base: baseSample.fds, after: fdsAfter },
    };
  } finally {
    for (const s of sockets) s.close();
    for (const a of agents.values()) await a.close();
    await server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inBatches(n: number, size: number, each: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i += size)
    await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, k) => each(i + k)));
}
