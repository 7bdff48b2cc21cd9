// Fuzzes every door of one real server, in this process so its heap and handles can be read:
// HTTP bodies and raw requests, WebSocket frames, TCP lines, UDP datagrams and IRC lines, N cases each
// (lib/fuzz-inputs.ts). After each case on a connection a ping must be answered or the
// connection closed by the server within a deadline, else the case counts as stuck. At the end
// every client is closed and memory, handles and the server's own tables are compared with the
// baseline taken after a warm-up.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { pino } from 'pino';
import { Pool } from 'undici';
import { loadConfig } from '../../src/config.js';
import { type PorthouseServer, start } from '../../src/server.js';
import {
  FUZZ_ROOM,
  HTTP_ROOM,
  bodyCases,
  hostileJson,
  ircCases,
  rawHttpCases,
  tcpCases,
  textFrame,
  wsCases,
} from './fuzz-inputs.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FuzzOptions {
  /** Cases per door. */
  readonly cases: number;
  readonly seed: number;
  /** Connections fuzzed side by side on each stream door. */
  readonly lanes: number;
  /** A case with no answer and no close by then is stuck. */
  readonly deadlineMs: number;
}

export interface DoorReport {
  readonly door: string;
  readonly cases: number;
  /** Cases after which the connection answered a ping (or, for HTTP, the request was answered). */
  readonly answered: number;
  /** Cases that ended with the server closing the connection (a frame too large, a broken frame). */
  readonly closed: number;
  readonly stuck: number;
  /** `internal` error codes or HTTP 5xx: bugs. */
  readonly internal: number;
  /** How often each error code was answered. */
  readonly codes: Record<string, number>;
  readonly ms: number;
  readonly notes: string[];
}

export interface Snapshot {
  readonly heapUsed: number;
  readonly rss: number;
  /** process.getActiveResourcesInfo(), counted by kind. */
  readonly resources: Record<string, number>;
  /** The server's own tables: connections per door, hub subscriptions. */
  readonly server: Record<string, number>;
}

export interface FuzzReport {
  readonly doors: DoorReport[];
  readonly baseline: Snapshot;
  readonly after: Snapshot;
  /** Uncaught exceptions and unhandled rejections seen while fuzzing. */
  readonly crashes: string[];
  /** The server still served a fresh client on every door at the end. */
  readonly healthy: boolean;
}

class Tally {
  answered = 0;
  closed = 0;
  stuck = 0;
  internal = 0;
  readonly codes: Record<string, number> = {};
  readonly notes: string[] = [];
  readonly started = performance.now();

  /** Counts every `"code":"…"` in frames the server sent, and IRC's error numerics and FAILs. */
  countCodes(text: string): void {
    for (const m of text.matchAll(/"type":"error","code":"([a-z_]+)"/g)) this.#count(m[1]!);
    for (const m of text.matchAll(/^:\S+ ((?:4|5|9)\d\d) /gm)) this.#count(m[1]!);
    for (const m of text.matchAll(/^(?:@\S+ )?:\S+ FAIL \S+ ([A-Z0-9_]+)/gm))
      this.#count(m[1]!.toLowerCase());
  }

  #count(code: string): void {
    this.codes[code] = (this.codes[code] ?? 0) + 1;
    if (code === 'internal') this.internal++;
  }

  report(door: string, cases: number): DoorReport {
    const { answered, closed, stuck, internal, codes, notes } = this;
    return {
      door,
      cases,
      answered,
      closed,
      stuck,
      internal,
      codes,
      ms: Math.round(performance.now() - this.started),
      notes,
    };
  }
}

/**
 * A connection to a frame door that can be asked, after each case, whether it still answers.
 * Subclasses say how to open one and how to frame the ping.
 */
abstract class Lane {
  socket!: Socket;
  /** The end of what came in so far, so a pong split across two chunks is still seen. */
  #tail = '';
  readonly #pongs = new Set<string>();
  #closed = true;
  #wake: (() => void) | undefined;
  #probes = 0;
  /** The start of the last case, to name a stuck one. */
  #last = '';

  constructor(
    readonly tally: Tally,
    private readonly name: string,
    protected readonly port: number,
    protected readonly token: string,
  ) {}

  protected abstract connect(): Promise<Socket>;
  protected abstract ping(ref: string): Buffer;
  /** The refs of the pongs in `text` (the frame doors' JSON by default). */
  protected pongs(text: string): Iterable<string> {
    return [...text.matchAll(/"type":"pong","ref":"([^"]+)"/g)].map((m) => m[1]!);
  }

  async open(): Promise<void> {
    this.socket = await this.connect();
    this.#closed = false;
    this.#tail = '';
    this.socket.on('data', (d: Buffer) => {
      const s = d.toString('latin1');
      this.tally.countCodes(s);
      // A pong may come before, inside or after a long replay: every one is noted as it passes.
      for (const ref of this.pongs(this.#tail + s)) this.#pongs.add(ref);
      this.#tail = s.slice(-64);
      this.#wake?.();
    });
    this.socket.on('error', () => {});
    this.socket.once('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  /** Writes the case's chunks (a turn of the event loop between them, so they arrive apart). */
  async send(chunks: Buffer[]): Promise<void> {
    this.#last = Buffer.concat(chunks).subarray(0, 300).toString('latin1');
    for (const [i, c] of chunks.entries()) {
      if (this.#closed) return;
      if (i > 0) await new Promise((r) => setImmediate(r));
      this.socket.write(c);
    }
  }

  /** After a case: a pong, or a close by the server, within the deadline; reopens after a close. */
  async settle(deadlineMs: number): Promise<void> {
    if (!this.#closed) {
      const ref = `${this.name}-${++this.#probes}`;
      this.socket.write(this.ping(ref));
      const until = Date.now() + deadlineMs;
      while (!this.#closed && !this.#pongs.has(ref) && Date.now() < until)
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, 50);
        });
      this.#wake = undefined;
      if (this.#pongs.delete(ref)) this.tally.answered++;
      else if (this.#closed) this.tally.closed++;
      else {
        this.tally.stuck++;
        if (this.tally.notes.length < 10) this.tally.notes.push(`stuck after ${JSON.stringify(this.#last)}`);
        this.socket.destroy();
        this.#closed = true;
      }
    } else this.tally.closed++;
    if (this.#closed) await this.open();
  }

  close(): void {
    this.socket?.destroy();
  }
}

class WsLane extends Lane {
  protected connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect(this.port, '127.0.0.1');
      let head = '';
      const onData = (d: Buffer) => {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        s.off('data', onData);
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        else {
          // Anything after the headers (a frame already sent) would be lost: none is expected
          // before the client speaks, but put it back to be safe.
          const rest = Buffer.from(head.slice(end + 4), 'latin1');
          if (rest.length) s.unshift(rest);
          resolve(s);
        }
      };
      s.on('data', onData);
      s.once('error', reject);
      s.write(
        `GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ZnV6emZ1enpmdXp6ZnV6eg==\r\nAuthorization: Bearer ${this.token}\r\n\r\n`,
      );
    });
  }

  protected ping(ref: string): Buffer {
    return textFrame(JSON.stringify({ type: 'ping', ref }));
  }
}

class TcpLane extends Lane {
  protected async connect(): Promise<Socket> {
    const s = connect(this.port, '127.0.0.1');
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.write(`${JSON.stringify({ type: 'auth', token: this.token })}\n`);
    s.write(`${JSON.stringify({ type: 'sub', room: FUZZ_ROOM })}\n`);
    return s;
  }

  protected ping(ref: string): Buffer {
    return Buffer.from(`${JSON.stringify({ type: 'ping', ref })}\n`);
  }
}

class IrcLane extends Lane {
  protected async connect(): Promise<Socket> {
    const s = connect(this.port, '127.0.0.1');
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.write(`PASS ${this.token}\r\nNICK fuzzer\r\nUSER f 0 * :fuzz\r\nJOIN #${FUZZ_ROOM}\r\n`);
    return s;
  }

  protected ping(ref: string): Buffer {
    return Buffer.from(`PING ${ref}\r\n`);
  }

  protected override pongs(text: string): Iterable<string> {
    return [...text.matchAll(/ PONG \S+ :?(\S+)\r\n/g)].map((m) => m[1]!);
  }
}

/** Runs `cases` in `lanes` lanes side by side, each case then its settle. */
async function inLanes<L extends Lane, C>(
  lanes: L[],
  cases: C[],
  run: (lane: L, c: C, index: number) => Promise<void>,
  deadlineMs: number,
): Promise<void> {
  await Promise.all(lanes.map((l) => l.open()));
  let next = 0;
  await Promise.all(
    lanes.map(async (lane) => {
      while (next < cases.length) {
        const i = next++;
        await run(lane, cases[i]!, i);
        await lane.settle(deadlineMs);
      }
    }),
  );
  for (const l of lanes) l.close();
}

export class FuzzTarget {
  readonly dir = mkdtempSync(join(tmpdir(), 'porthouse-fuzz-'));
  server!: PorthouseServer;
  token = '';
  httpPort = 0;
  tcpPort = 0;
  udpPort = 0;
  ircPort = 0;

  async start(): Promise<void> {
    const config = loadConfig({
      overrides: {
        port: 0,
        tcpPort: 0,
        udpPort: 0,
        ircPort: -1,
        data: this.dir,
        logLevel: 'silent',
        // Limits stay at their defaults except these, which would otherwise turn most cases into
        // `rate_limited` before any parser saw them; and password hashing is cheap, because
        // a fuzzed body sometimes registers a user.
        rateLimits: false,
        framePubPerSecond: 1_000_000,
        framePubBurst: 1_000_000,
        typingPerSecond: 1000,
        udpPerSecond: 1_000_000,
        scryptCost: 10,
      },
    });
    this.server = await start(config, { logger: pino({ level: 'silent' }) });
    const port = (door: string) => this.server.addresses().find((a) => a.door === door)!.port;
    this.httpPort = port('http');
    this.tcpPort = port('tcp');
    this.udpPort = port('udp');
    this.ircPort = port('irc');
    const json = { 'content-type': 'application/json' };
    const account = JSON.stringify({ name: 'fuzzer', password: 'correct horse battery' });
    await fetch(`${this.server.url}/v1/users`, { method: 'POST', headers: json, body: account });
    const t = await fetch(`${this.server.url}/v1/tokens`, { method: 'POST', headers: json, body: account });
    this.token = ((await t.json()) as { token: string }).token;
    const auth = { ...json, authorization: `Bearer ${this.token}` };
    for (const room of [{ name: FUZZ_ROOM }, { name: HTTP_ROOM }, { name: 'secret', private: true }])
      await fetch(`${this.server.url}/v1/rooms`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(room),
      });
  }

  /** Makes the HTTP fuzz's room again if a case deleted it (409 when it still exists). */
  async ensureHttpRoom(): Promise<void> {
    const res = await fetch(`${this.server.url}/v1/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ name: HTTP_ROOM }),
    });
    await res.arrayBuffer();
  }

  async stop(): Promise<void> {
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  snapshot(): Snapshot {
    gc();
    gc();
    const resources: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
    const { heapUsed, rss } = process.memoryUsage();
    const s = this.server;
    return {
      heapUsed,
      rss,
      resources,
      server: {
        ws: s.ws.size,
        tcp: s.tcp.size,
        irc: s.irc.size,
        sse: [...s.sse.streams()].length,
        udpPeers: s.udp.peers().length,
        subscriptions: s.hub.stats().subscriptions,
      },
    };
  }

  async ws(o: FuzzOptions): Promise<DoorReport> {
    const tally = new Tally();
    const cases = fc.sample(wsCases(), { numRuns: o.cases, seed: o.seed });
    const lanes = Array.from(
      { length: o.lanes },
      (_, i) => new WsLane(tally, `w${i}`, this.httpPort, this.token),
    );
    await inLanes(lanes, cases, (lane, c) => lane.send([c]), o.deadlineMs);
    return tally.report('ws', cases.length);
  }

  async tcp(o: FuzzOptions): Promise<DoorReport> {
    const tally = new Tally();
    const cases = fc
      .sample(tcpCases(), { numRuns: o.cases, seed: o.seed })
      .map((make, i) => make(`${o.seed}-${i}`));
    const lanes = Array.from(
      { length: o.lanes },
      (_, i) => new TcpLane(tally, `t${i}`, this.tcpPort, this.token),
    );
    await inLanes(lanes, cases, (lane, c) => lane.send(c.chunks), o.deadlineMs);
    // Every multi-byte pub that was split across writes must be stored exactly as sent (REST
    // messages carry no ref, so texts are matched as a multiset).
    const sent = cases.filter((c) => c.pub).map((c) => c.pub!.text);
    const stored = new Map<string, number>();
    for (const text of await this.history()) stored.set(text, (stored.get(text) ?? 0) + 1);
    let intact = 0;
    for (const text of sent) {
      const n = stored.get(text) ?? 0;
      if (n > 0) {
        intact++;
        stored.set(text, n - 1);
      }
    }
    tally.notes.push(`${sent.length} multi-byte pubs split across writes: ${intact} stored intact`);
    if (intact < sent.length) tally.internal++;
    return tally.report('tcp', cases.length);
  }

  async irc(o: FuzzOptions): Promise<DoorReport> {
    const tally = new Tally();
    const cases = fc.sample(ircCases(), { numRuns: o.cases, seed: o.seed });
    const lanes = Array.from(
      { length: o.lanes },
      (_, i) => new IrcLane(tally, `i${i}`, this.ircPort, this.token),
    );
    await inLanes(lanes, cases, (lane, c) => lane.send(c.chunks), o.deadlineMs);
    return tally.report('irc', cases.length);
  }

  /** The text of every message in the fuzz room. */
  async history(): Promise<string[]> {
    const out: string[] = [];
    for (let after = 0; ; ) {
      const res = await fetch(`${this.server.url}/v1/rooms/${FUZZ_ROOM}/messages?after=${after}&limit=200`, {
        headers: { authorization: `Bearer ${this.token}` },
      });
      const page = (await res.json()) as { seq: number; text: string }[];
      if (page.length === 0) break;
      for (const m of page) out.push(m.text);
      after = page.at(-1)!.seq;
    }
    return out;
  }

  async udp(o: FuzzOptions): Promise<DoorReport> {
    const tally = new Tally();
    const datagrams = fc.sample(
      fc.oneof(
        { weight: 8, arbitrary: hostileJson.map((s) => Buffer.from(s)) },
        { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 1400 }).map((a) => Buffer.from(a)) },
      ),
      { numRuns: o.cases, seed: o.seed },
    );
    const sockets = await Promise.all(
      Array.from({ length: o.lanes }, async () => {
        const s = createSocket('udp4');
        await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
        return s;
      }),
    );
    let bytesIn = 0;
    let bytesOut = 0;
    let worst = 0;
    const outBy = new Map<number, number>();
    const inBy = new Map<number, number>();
    for (const [i, s] of sockets.entries())
      s.on('message', (m) => {
        bytesIn += m.length;
        inBy.set(i, (inBy.get(i) ?? 0) + m.length);
        tally.countCodes(m.toString('latin1'));
      });
    let sent = 0;
    for (const [i, d] of datagrams.entries()) {
      // Datagrams over the UDP limit (65,507 bytes) cannot be sent at all: trim them.
      const bytes = d.length > 65_000 ? d.subarray(0, 65_000) : d;
      const lane = i % sockets.length;
      bytesOut += bytes.length;
      outBy.set(lane, (outBy.get(lane) ?? 0) + bytes.length);
      sockets[lane]!.send(bytes, this.udpPort, '127.0.0.1');
      sent++;
      // Paced, so the kernel's queue does not drop what the parser should see.
      if (i % 20 === 19) await sleep(1);
    }
    await sleep(500);
    for (const [lane, out] of outBy) worst = Math.max(worst, (inBy.get(lane) ?? 0) / out);
    for (const s of sockets) s.close();
    tally.answered = sent;
    tally.notes.push(
      `${sent} datagrams, ${bytesOut} bytes sent, ${bytesIn} bytes answered (worst source ${worst.toFixed(3)} bytes back per byte sent)`,
    );
    if (worst > 1) tally.internal++;
    return tally.report('udp', datagrams.length);
  }

  async http(o: FuzzOptions): Promise<DoorReport> {
    const tally = new Tally();
    // Routes with hostile bodies, over keep-alive connections.
    const bodies = fc.sample(bodyCases(), { numRuns: Math.ceil(o.cases * 0.6), seed: o.seed });
    const pool = new Pool(this.server.url, { connections: o.lanes, pipelining: 1 });
    let next = 0;
    const statuses: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: o.lanes }, async () => {
        while (next < bodies.length) {
          const c = bodies[next++]!;
          const headers: Record<string, string> = { ...c.headers };
          if (c.contentType) headers['content-type'] = c.contentType;
          if (c.authorized) headers['authorization'] = `Bearer ${this.token}`;
          try {
            const res = await pool.request({
              method: c.method as 'POST',
              path: c.path,
              headers,
              body: c.method === 'GET' ? undefined : c.body,
              headersTimeout: o.deadlineMs,
              bodyTimeout: o.deadlineMs,
            });
            const text = await res.body.text();
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            if (res.statusCode >= 500) {
              tally.internal++;
              if (tally.notes.length < 5)
                tally.notes.push(`${c.method} ${c.path} → ${res.statusCode} ${text.slice(0, 200)}`);
            } else if (res.statusCode >= 400) {
              const code = (JSON.parse(text) as { code?: string }).code ?? '(none)';
              tally.codes[code] = (tally.codes[code] ?? 0) + 1;
            }
            tally.answered++;
            if (c.method === 'DELETE' && res.statusCode === 204) await this.ensureHttpRoom();
          } catch (err) {
            if ((err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT') tally.stuck++;
            else tally.closed++;
          }
        }
      }),
    );
    await pool.close();
    tally.notes.push(
      `routes: ${Object.entries(statuses)
        .sort()
        .map(([s, n]) => `${n}× ${s}`)
        .join(', ')}`,
    );

    // Raw requests with broken request lines and headers, one connection each, half-closed after
    // the request so an incomplete one cannot wait for more.
    const raws = fc.sample(rawHttpCases(this.token), { numRuns: o.cases - bodies.length, seed: o.seed + 1 });
    let rawNext = 0;
    const rawStatus: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: o.lanes * 2 }, async () => {
        while (rawNext < raws.length) {
          const req = raws[rawNext++]!;
          const outcome = await new Promise<string>((resolve) => {
            const s = connect(this.httpPort, '127.0.0.1');
            let head = '';
            const timer = setTimeout(() => {
              s.destroy();
              resolve('stuck');
            }, o.deadlineMs);
            s.on('data', (d: Buffer) => {
              head += d.toString('latin1');
              const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
              if (status) {
                clearTimeout(timer);
                s.destroy();
                resolve(status[1]!);
              }
            });
            s.on('error', () => {});
            s.once('close', () => {
              clearTimeout(timer);
              resolve('closed');
            });
            s.write(req, 'latin1');
            s.end();
          });
          rawStatus[outcome] = (rawStatus[outcome] ?? 0) + 1;
          if (outcome === '204') await this.ensureHttpRoom();
          if (outcome === 'stuck') tally.stuck++;
          else if (outcome === 'closed') tally.closed++;
          else {
            tally.answered++;
            if (Number(outcome) >= 500) {
              tally.internal++;
              if (tally.notes.length < 10)
                tally.notes.push(`raw → ${outcome}: ${JSON.stringify(req.slice(0, 200))}`);
            }
          }
        }
      }),
    );
    tally.notes.push(
      `raw requests: ${Object.entries(rawStatus)
        .sort()
        .map(([s, n]) => `${n}× ${s}`)
        .join(', ')}`,
    );
    return tally.report('http', bodies.length + raws.length);
  }

  /** A fresh client on every door gets an answer. */
  async healthy(): Promise<boolean> {
    const ok: boolean[] = [];
    ok.push((await fetch(`${this.server.url}/healthz`)).ok);
    for (const lane of [
      new WsLane(new Tally(), 'hw', this.httpPort, this.token),
      new TcpLane(new Tally(), 'ht', this.tcpPort, this.token),
      new IrcLane(new Tally(), 'hi', this.ircPort, this.token),
    ]) {
      const t = lane.tally;
      await lane.open();
      await lane.settle(5000);
      lane.close();
      ok.push(t.answered === 1);
    }
    const udp = createSocket('udp4');
    const pong = new Promise<boolean>((resolve) => {
      udp.once('message', (m) => resolve(String(m).includes('"pong"')));
      setTimeout(() => resolve(false), 3000);
    });
    udp.send(JSON.stringify({ type: 'ping', ref: 'h' }), this.udpPort, '127.0.0.1');
    ok.push(await pong);
    udp.close();
    return ok.every(Boolean);
  }
}

/** Warm-up, baseline, every door, then the comparison. */
export async function runFuzz(o: FuzzOptions, log: (line: string) => void = () => {}): Promise<FuzzReport> {
  const crashes: string[] = [];
  const onCrash = (err: unknown) => crashes.push(String((err as Error)?.stack ?? err));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const target = new FuzzTarget();
  await target.start();
  try {
    // A warm-up (a few hundred cases per door) so that the baseline holds the code, caches and
    // pools the run itself will have, then the baseline with every client gone.
    const warm = { ...o, cases: Math.min(300, o.cases), seed: o.seed + 1000 };
    for (const door of ['http', 'ws', 'tcp', 'udp', 'irc'] as const) await target[door](warm);
    await sleep(3000);
    const baseline = target.snapshot();
    const doors: DoorReport[] = [];
    for (const door of ['http', 'ws', 'tcp', 'udp', 'irc'] as const) {
      const r = await target[door](o);
      log(`${door}: ${JSON.stringify(r)}`);
      doors.push(r);
    }
    // Deadlines that close sockets (linger 1–2 s) run out before the comparison.
    await sleep(3000);
    const after = target.snapshot();
    const healthy = await target.healthy();
    return { doors, baseline, after, crashes, healthy };
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await target.stop();
  }
}
