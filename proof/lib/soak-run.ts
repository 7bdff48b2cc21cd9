// Connection churn for a long time against one node: clients on WebSocket, TCP and SSE connect,
// subscribe with `since`, listen a while (some publish), then drop without a goodbye and come
// back. The server's heap, RSS, descriptors and handles are sampled throughout; at the end every
// client is gone, and what the server holds must be back where it started. Each client checks
// that across all its reconnects it saw its room's messages once each, in order, with no gap.
// Loopback only; it stops by itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServeProcess, serverMetrics } from './serve-process.js';
import { type RoomSubscriber, type SubscriberDoor, subscribe } from './subscribers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SoakOptions {
  readonly seconds: number;
  /** Clients churning at once, spread over WebSocket, TCP and SSE. */
  readonly clients: number;
  readonly rooms: number;
  /** Messages per second, all publishing clients together. */
  readonly rate: number;
  /** How long a client stays connected before it drops, ms (uniform in [min, max]). */
  readonly stayMs: readonly [number, number];
  readonly sampleEveryMs: number;
  /** Samples before this are warm-up, left out of the trend. */
  readonly warmupSeconds: number;
  readonly log?: (line: string) => void;
}

export interface SoakSample {
  /** Seconds since the churn began. */
  readonly t: number;
  readonly rss: number;
  readonly heap: number;
  readonly fds: number;
  readonly handles: number;
  readonly timers: number;
  readonly connections: number;
}

export interface Trend {
  /** Slope of the floor (each minute's lowest sample) after warm-up, bytes per minute. */
  readonly slopePerMinute: number;
  /** The fitted floor's rise from the end of warm-up to the end of the run, bytes. */
  readonly growth: number;
}

export interface SoakReport {
  readonly samples: SoakSample[];
  readonly heap: Trend;
  readonly rss: Trend;
  readonly connects: number;
  readonly drops: number;
  readonly published: number;
  readonly received: number;
  /** Gaps, duplicates or reorderings any client saw across its reconnects. */
  readonly violations: string[];
  /** Before the churn and after every client left. */
  readonly idle: { before: SoakSample; after: SoakSample };
}

/**
 * Whether memory creeps up. The heap in use is a sawtooth (garbage piles up between collections),
 * so a line through every sample follows wherever the last teeth happen to be; what a leak
 * raises is the floor. Each window's lowest sample is the floor there, and the line is fitted
 * through the floors after warm-up.
 */
export function trend(
  samples: readonly SoakSample[],
  key: 'heap' | 'rss',
  fromT: number,
  windowS = 60,
): Trend {
  const floors = new Map<number, { t: number; v: number }>();
  // Whole windows only: a last window of one or two samples has no floor to speak of.
  const windows = Math.floor(((samples.at(-1)?.t ?? 0) - fromT) / windowS);
  for (const s of samples) {
    if (s.t < fromT) continue;
    const w = Math.floor((s.t - fromT) / windowS);
    if (w >= windows) continue;
    const cur = floors.get(w);
    if (!cur || s[key] < cur.v) floors.set(w, { t: fromT + (w + 0.5) * windowS, v: s[key] });
  }
  const pts = [...floors.values()];
  if (pts.length < 2) return { slopePerMinute: 0, growth: 0 };
  const n = pts.length;
  const mx = pts.reduce((a, p) => a + p.t, 0) / n;
  const my = pts.reduce((a, p) => a + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.t - mx) * (p.v - my);
    den += (p.t - mx) ** 2;
  }
  const slope = den === 0 ? 0 : num / den;
  const span = samples[samples.length - 1]!.t - fromT;
  return { slopePerMinute: slope * 60, growth: slope * span };
}

/** One client that keeps coming back: its room, the last seq it saw, and what it published. */
class Churner {
  last = 0;
  received = 0;
  #sub: RoomSubscriber | undefined;

  constructor(
    readonly door: SubscriberDoor,
    readonly room: string,
    readonly token: string,
    readonly publishes: boolean,
    private readonly run: { url: string; tcpPort: number; violations: string[] },
  ) {}

  /** A msg frame: the next seq of the room, or a violation. */
  #take(seq: number): void {
    if (seq === this.last + 1) {
      this.last = seq;
      this.received++;
    } else if (seq <= this.last) this.#violation(`duplicate ${seq} after ${this.last}`);
    else {
      this.#violation(`gap: ${seq} after ${this.last}`);
      this.last = seq;
    }
  }

  #violation(what: string): void {
    if (this.run.violations.length < 50) this.run.violations.push(`${this.door} ${this.room}: ${what}`);
  }

  /** Connects and subscribes with since = last; resolves once subscribed. */
  async connect(): Promise<void> {
    const { url, tcpPort } = this.run;
    this.#sub = await subscribe(
      this.door,
      { httpPort: Number(new URL(url).port), tcpPort, token: this.token, room: this.room, since: this.last },
      (seq) => this.#take(seq),
    );
  }

  /** Publishes if connected on a door that carries pubs; false otherwise. */
  pub(text: string): boolean {
    return this.#sub?.pub(text) ?? false;
  }

  /** Drops the connection the rude way: no close frame, no unsub. */
  drop(): void {
    this.#sub?.drop();
    this.#sub = undefined;
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'porthouse-soak-'));
  const server = await ServeProcess.startOnFreePorts(dir);
  const violations: string[] = [];
  const run = { url: server.url, tcpPort: server.tcpPort, violations };
  const sample = async (t: number): Promise<SoakSample> => {
    const p = server.sample();
    const m = await serverMetrics(server.url);
    return { t, rss: p.rss, fds: p.fds, ...m };
  };
  let stopping = false;
  try {
    const json = { 'content-type': 'application/json' };
    const body = JSON.stringify({ name: 'soak', password: 'correct horse battery' });
    await (await fetch(`${server.url}/v1/users`, { method: 'POST', headers: json, body })).arrayBuffer();
    const token = (
      (await (await fetch(`${server.url}/v1/tokens`, { method: 'POST', headers: json, body })).json()) as {
        token: string;
      }
    ).token;
    const rooms = Array.from({ length: o.rooms }, (_, i) => `soak-${i}`);
    for (const name of rooms)
      await (
        await fetch(`${server.url}/v1/rooms`, {
          method: 'POST',
          headers: { ...json, authorization: `Bearer ${token}` },
          body: JSON.stringify({ name }),
        })
      ).arrayBuffer();
    await sleep(1000);
    const before = await sample(0);

    const doors: SubscriberDoor[] = ['ws', 'ws', 'tcp', 'sse'];
    const churners = Array.from(
      { length: o.clients },
      (_, i) =>
        new Churner(
          doors[i % doors.length]!,
          rooms[i % rooms.length]!,
          token,
          i % 5 === 0 && doors[i % doors.length] !== 'sse',
          run,
        ),
    );
    const publishers = churners.filter((c) => c.publishes);
    let connects = 0;
    let drops = 0;
    let published = 0;
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;

    // Each client: connect, stay a while, drop, again, until the time is up.
    const loops = churners.map(async (c, i) => {
      await sleep((i / churners.length) * o.stayMs[0]);
      while (!stopping) {
        try {
          await c.connect();
          connects++;
        } catch {
          c.drop();
          await sleep(200);
          continue;
        }
        const stay = o.stayMs[0] + Math.random() * (o.stayMs[1] - o.stayMs[0]);
        const until = performance.now() + stay;
        while (!stopping && performance.now() < until) await sleep(Math.min(250, until - performance.now()));
        c.drop();
        drops++;
      }
    });
    // A steady publish rate, from whichever publishers are connected right now.
    const pubLoop = (async () => {
      let k = 0;
      while (!stopping) {
        const due = Math.floor(elapsed() * o.rate);
        // Round robin over the publishers that are connected at this moment.
        for (let misses = 0; published < due && misses < publishers.length; k++) {
          if (publishers[k % publishers.length]!.pub(`s${published}`)) published++;
          else misses++;
        }
        await sleep(5);
      }
    })();
    const samples: SoakSample[] = [];
    while (elapsed() < o.seconds) {
      await sleep(o.sampleEveryMs);
      const s = await sample(elapsed());
      samples.push(s);
      log(
        `t=${s.t.toFixed(0)} s rss ${(s.rss / 1048576).toFixed(1)} MB heap ${(s.heap / 1048576).toFixed(1)} MB fds ${s.fds} handles ${s.handles} timers ${s.timers} connections ${s.connections}; ${connects} connects, ${published} published`,
      );
    }
    stopping = true;
    await Promise.all([...loops, pubLoop]);
    for (const c of churners) c.drop();
    // Every client is gone: what the server holds settles (deadlines for closing sockets run out).
    await sleep(5000);
    const after = await sample(elapsed());
    const received = churners.reduce((n, c) => n + c.received, 0);
    return {
      samples,
      heap: trend(samples, 'heap', o.warmupSeconds),
      rss: trend(samples, 'rss', o.warmupSeconds),
      connects,
      drops,
      published,
      received,
      violations,
      idle: { before, after },
    };
  } finally {
    stopping = true;
    await server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A small SVG line plot of heap and RSS over time, for docs/img. */
export function soakSvg(samples: readonly SoakSample[], title: string): string {
  const W = 640;
  const H = 260;
  const pad = { l: 56, r: 16, t: 28, b: 36 };
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const yMax = Math.max(1, ...samples.map((s) => s.rss)) * 1.1;
  const x = (t: number) => pad.l + (t / tMax) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / yMax) * (H - pad.t - pad.b);
  const line = (key: 'rss' | 'heap') =>
    samples.map((s, i) => `${i ? 'L' : 'M'}${x(s.t).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');
  const mb = (v: number) => `${Math.round(v / 1048576)} MB`;
  const ticksY = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const ticksX = [0, 0.25, 0.5, 0.75, 1].map((f) => f * tMax);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${pad.l}" y="18" font-size="13" font-weight="bold">${title}</text>
${ticksY.map((v) => `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${mb(v)}</text>`).join('\n')}
${ticksX.map((t) => `<text x="${x(t).toFixed(1)}" y="${H - pad.b + 16}" text-anchor="middle" fill="#555">${Math.round(t / 60)} min</text>`).join('\n')}
<path d="${line('rss')}" fill="none" stroke="#d9480f" stroke-width="2"/>
<path d="${line('heap')}" fill="none" stroke="#1971c2" stroke-width="2"/>
<text x="${W - pad.r}" y="${pad.t + 4}" text-anchor="end" fill="#d9480f">RSS</text>
<text x="${W - pad.r}" y="${pad.t + 18}" text-anchor="end" fill="#1971c2">heap in use</text>
</svg>
`;
}
