// The fan-out benchmarks' common parts: plain-WebSocket and TCP clients for porthouse and a
// Socket.IO peer, and the two runs (bursts for throughput and CPU per delivery, a fixed rate for
// latency). bench/fanout.ts and bench/sockets.ts drive them.
import { connect as tcpConnect } from 'node:net';
import { WebSocket } from 'ws';
import type { Child } from './children.js';
import { commitStats, cpuTimes } from './machine.js';

export interface ThroughputOptions {
  readonly burst: number;
  readonly deliveries: number;
  readonly textBytes: number;
}
export interface LatencyOptions {
  readonly rate: number;
  /** In all, over every round. */
  readonly seconds: number;
  /** How many rounds the seconds are cut into (1 ≤ rounds ≤ rate × seconds). */
  readonly rounds: number;
  readonly textBytes: number;
}

// Clients: plain `ws` sockets for both servers, so the client side costs the same. Subscribers
// count message frames without parsing them, except during the latency run.

export interface Subscriber {
  received: number;
  onMessage: ((data: Buffer) => void) | undefined;
  close(): void;
}
export interface Publisher {
  publish(text: string): void;
  close(): void;
}
export interface Server {
  /** porthouse servers start with `porthouse` (their group-commit counters are read). */
  readonly name: string;
  readonly child: Child;
  subscriber(delivered: () => void): Promise<Subscriber>;
  publisher(): Promise<Publisher>;
}

/**
 * The publish time stamped at the start of a message's text (`<ms>|xxx…`), read straight from the
 * frame's bytes. Both servers' frames go through this same function, so the one-process client
 * side costs the same per delivery whatever else each frame carries; parsing each frame's JSON
 * would charge porthouse's larger frames (id, author, via, createdAt) to its latency.
 */
export function stampOf(data: Buffer): number {
  const bar = data.indexOf(0x7c); // '|'
  const quote = data.lastIndexOf(0x22, bar); // '"'
  return Number(data.toString('latin1', quote + 1, bar));
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

export function porthouseServer(child: Child, token: string, name = 'porthouse'): Server {
  const url = `${child.url.replace(/^http/, 'ws')}/v1/ws`;
  const headers = { authorization: `Bearer ${token}` };
  return {
    name,
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
        sub.onMessage?.(data);
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
  };
}

export function socketioServer(child: Child): Server {
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
        sub.onMessage?.(data);
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
  };
}

// ---------------------------------------------------------------------------------------------
// Runs

export interface ThroughputResult {
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
export interface LatencyResult {
  readonly messages: number;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly lost: number;
  /**
   * Where the p99 comes from, per message: its first delivery (the server's path to its first
   * write, and the client waking up) and its spread (first to last delivery: the server's
   * writes and the one client process reading every socket).
   */
  readonly firstP50Ms: number;
  readonly firstP99Ms: number;
  readonly spreadP50Ms: number;
  readonly spreadP99Ms: number;
  /** porthouse only: mean time of a group commit's transaction during the run. */
  readonly meanCommitMs?: number;
  /** porthouse `fdatasync` only: mean wait for the disk after a commit, and waits over 5 ms. */
  readonly meanSyncMs?: number;
  readonly slowSyncs?: number;
}

/** A counter that resolves a promise when it reaches a target. */
export class Tally {
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

/**
 * Connects `n` subscribers (100 at a time) and a publisher; if any fails, closes every one
 * already open before rethrowing, so a failed run leaves no sockets behind.
 */
async function connectAll(
  server: Server,
  n: number,
  tally: Tally,
): Promise<{ subs: Subscriber[]; pub: Publisher }> {
  const subs: Subscriber[] = [];
  try {
    for (let i = 0; i < n; i += 100) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(100, n - i) }, () => server.subscriber(tally.hit)),
      );
      for (const r of batch) if (r.status === 'fulfilled') subs.push(r.value);
      const failed = batch.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return { subs, pub: await server.publisher() };
  } catch (err) {
    for (const s of subs) s.close();
    throw err;
  }
}

export async function throughput(server: Server, n: number, o: ThroughputOptions): Promise<ThroughputResult> {
  const tally = new Tally();
  const { subs, pub } = await connectAll(server, n, tally);
  const text = 'x'.repeat(o.textBytes);
  try {
    // Warm-up (a tenth of the run, at least one burst): the JIT settles, and every subscriber is
    // proven to be in the room.
    const bursts = Math.max(1, Math.ceil(o.deliveries / n / o.burst));
    const warmup = Math.max(1, Math.round(bursts / 10));
    for (let b = 1; b <= warmup; b++) {
      for (let i = 0; i < o.burst; i++) pub.publish(text);
      await tally.reach(n * o.burst * b, 60_000, `${server.name} warm-up`);
    }
    tally.count = 0;
    const commits0 = server.name.startsWith('porthouse') ? await commitStats(server.child.url) : undefined;
    const cpu0 = cpuTimes(server.child.pid);
    const t0 = performance.now();
    for (let b = 1; b <= bursts; b++) {
      for (let i = 0; i < o.burst; i++) pub.publish(text);
      await tally.reach(n * o.burst * b, 60_000, `${server.name} burst ${b}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuTimes(server.child.pid);
    const serverSystemSeconds = cpu1.system - cpu0.system;
    const serverCpuSeconds = cpu1.user - cpu0.user + serverSystemSeconds;
    const deliveries = n * o.burst * bursts;
    const commits1 = commits0 ? await commitStats(server.child.url) : undefined;
    return {
      ...(commits0 && commits1
        ? { messagesPerCommit: (commits1.writes - commits0.writes) / (commits1.commits - commits0.commits) }
        : {}),
      messages: o.burst * bursts,
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

/**
 * Latency at a fixed rate, in rounds. Every server's subscribers stay connected while the rounds
 * of the servers alternate (A B A B …), so a slow stretch of this shared VM falls on each of them
 * alike instead of deciding whichever one happened to be running; the result pools all rounds.
 */
export class LatencyRun {
  readonly #samples: Float64Array;
  /** Messages a round: rate × seconds / rounds, rounded, the same in every round. */
  readonly #perRound: number;
  /** First and last receipt of each message, keyed by its send stamp. */
  readonly #firstLast = new Map<number, [number, number]>();
  #taken = 0;
  #messages = 0;
  #commitSeconds = 0;
  #commits = 0;
  #syncSeconds = 0;
  #syncs = 0;
  #slowSyncs = 0;

  private constructor(
    readonly server: Server,
    private readonly n: number,
    private readonly options: LatencyOptions,
    private readonly subs: Subscriber[],
    private readonly pub: Publisher,
    private readonly tally: Tally,
  ) {
    this.#perRound = Math.max(1, Math.round((options.rate * options.seconds) / options.rounds));
    this.#samples = new Float64Array(n * options.rounds * this.#perRound);
    for (const s of subs)
      s.onMessage = (data) => {
        const sent = stampOf(data);
        const latency = performance.now() - sent;
        if (this.#taken < this.#samples.length) this.#samples[this.#taken++] = latency;
        const seen = this.#firstLast.get(sent);
        if (seen) seen[1] = latency;
        else this.#firstLast.set(sent, [latency, latency]);
      };
  }

  /** Connects `n` subscribers and a publisher (and closes them again if that fails). */
  static async open(server: Server, n: number, options: LatencyOptions): Promise<LatencyRun> {
    const tally = new Tally();
    const { subs, pub } = await connectAll(server, n, tally);
    return new LatencyRun(server, n, options, subs, pub, tally);
  }

  /** One round: `options.rate` messages a second, then a wait for every delivery. */
  async round(): Promise<void> {
    const { rate, textBytes } = this.options;
    const messages = this.#perRound;
    const porthouse = this.server.name.startsWith('porthouse');
    const commits0 = porthouse ? await commitStats(this.server.child.url) : undefined;
    const gap = 1000 / rate;
    const start = performance.now();
    for (let i = 0; i < messages; i++) {
      // A fixed schedule, not "sleep after send", so a slow server cannot lower the rate.
      const due = start + i * gap;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.pub.publish(`${performance.now().toFixed(3)}|`.padEnd(textBytes, 'x'));
    }
    this.#messages += messages;
    await this.tally
      .reach(this.n * this.#messages, 30_000, `${this.server.name} latency round`)
      .catch(() => {});
    if (commits0) {
      const commits1 = await commitStats(this.server.child.url);
      this.#commitSeconds += commits1.seconds - commits0.seconds;
      this.#commits += commits1.commits - commits0.commits;
      this.#syncSeconds += commits1.syncSeconds - commits0.syncSeconds;
      this.#syncs += commits1.syncs - commits0.syncs;
      this.#slowSyncs += commits1.slowSyncs - commits0.slowSyncs;
    }
  }

  result(): LatencyResult {
    const all = percentiles(this.#samples.subarray(0, this.#taken));
    const firsts = percentiles(Float64Array.from(this.#firstLast.values(), ([first]) => first));
    const spreads = percentiles(Float64Array.from(this.#firstLast.values(), ([first, last]) => last - first));
    return {
      messages: this.#messages,
      samples: this.#taken,
      p50Ms: all(0.5),
      p99Ms: all(0.99),
      maxMs: all(1),
      lost: this.n * this.#messages - this.#taken,
      firstP50Ms: firsts(0.5),
      firstP99Ms: firsts(0.99),
      spreadP50Ms: spreads(0.5),
      spreadP99Ms: spreads(0.99),
      ...(this.#commits > 0 ? { meanCommitMs: (this.#commitSeconds * 1000) / this.#commits } : {}),
      ...(this.#syncs > 0
        ? { meanSyncMs: (this.#syncSeconds * 1000) / this.#syncs, slowSyncs: this.#slowSyncs }
        : {}),
    };
  }

  close(): void {
    this.pub.close();
    for (const s of this.subs) s.close();
  }
}

/** The q-quantile (0 ≤ q ≤ 1; 1 is the largest) of `values`, sorted once. */
function percentiles(values: Float64Array): (q: number) => number {
  const sorted = Float64Array.from(values).sort();
  return (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** Each run's rounds in turn, `rounds` times. */
export async function alternate(runs: readonly LatencyRun[], rounds: number): Promise<void> {
  for (let r = 0; r < rounds; r++)
    for (const run of runs) {
      await run.round();
      // A breath between rounds, so one server's last deliveries never overlap the next's first.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

// ---------------------------------------------------------------------------------------------
// Main

export async function setUpPorthouse(child: Child): Promise<string> {
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

/** porthouse with TCP subscribers (one JSON frame per line); the publisher stays on WebSocket. */
export function porthouseTcpServer(child: Child, token: string, tcpPort: number): Server {
  const ws = porthouseServer(child, token);
  return {
    name: 'porthouse-tcp',
    child,
    publisher: ws.publisher,
    subscriber: (delivered) =>
      new Promise((resolve, reject) => {
        const socket = tcpConnect(tcpPort, '127.0.0.1');
        socket.setNoDelay(true);
        let buffer = '';
        let ready = false;
        const sub: Subscriber = { received: 0, onMessage: undefined, close: () => socket.destroy() };
        socket.setEncoding('utf8');
        socket.on('error', reject);
        socket.on('data', (chunk: string) => {
          buffer += chunk;
          for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.startsWith('{"type":"msg"')) {
              sub.received++;
              sub.onMessage?.(Buffer.from(line, 'latin1'));
              delivered();
            } else if (!ready && line.startsWith('{"type":"ready"'))
              socket.write(`${JSON.stringify({ type: 'sub', room: 'bench' })}\n`);
            else if (!ready && line.startsWith('{"type":"subbed"')) {
              ready = true;
              resolve(sub);
            }
          }
        });
        socket.write(`${JSON.stringify({ type: 'auth', token })}\n`);
      }),
  };
}

/**
 * porthouse with IRC subscribers: each signs in with its token as PASS and takes server-time and
 * message-tags, as a modern client does (every line carries its time and msgid); the publisher
 * stays on WebSocket.
 */
export function porthouseIrcServer(child: Child, token: string, ircPort: number): Server {
  const ws = porthouseServer(child, token);
  return {
    name: 'porthouse-irc',
    child,
    publisher: ws.publisher,
    subscriber: (delivered) =>
      new Promise((resolve, reject) => {
        const socket = tcpConnect(ircPort, '127.0.0.1');
        socket.setNoDelay(true);
        let buffer = '';
        let ready = false;
        const sub: Subscriber = { received: 0, onMessage: undefined, close: () => socket.destroy() };
        socket.setEncoding('latin1');
        socket.on('error', reject);
        socket.on('data', (chunk: string) => {
          buffer += chunk;
          for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 2);
            if (line.includes(' PRIVMSG #bench :')) {
              sub.received++;
              sub.onMessage?.(Buffer.from(line, 'latin1'));
              delivered();
            } else if (line.startsWith('PING ')) socket.write(`PONG ${line.slice(5)}\r\n`);
            else if (!ready && / 00[1] /.test(line)) socket.write('JOIN #bench\r\n');
            else if (!ready && / 366 /.test(line)) {
              ready = true;
              resolve(sub);
            } else if (/ 464 |^ERROR /.test(line)) reject(new Error(`IRC refused: ${line}`));
          }
        });
        socket.write(
          `CAP LS 302\r\nCAP REQ :server-time message-tags\r\nPASS ${token}\r\nNICK bench\r\nUSER bench 0 * :bench\r\nCAP END\r\n`,
        );
      }),
  };
}
