// The crash proof: a real server, publishers on every door (REST with Idempotency-Key, WebSocket
// and TCP with refs, UDP with refs and retries) and subscribers on the reliable ones (WebSocket,
// TCP, SSE), while the server is killed with SIGKILL at random moments and started again on the
// same ports. At the end, from the REST history alone: every acknowledged message is there
// exactly once, the seqs are 1..N with no hole, and every subscriber received exactly 1..N.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { WebSocket } from 'ws';
import { RealtimeClient, type WebSocketLike } from '../../src/client/realtime.js';
import { followSse } from '../../src/client/sse.js';
import { tcpSocket } from '../../src/client/tcp-socket.js';
import { UdpClient } from '../../src/client/udp.js';
import { ServeProcess } from './serve-process.js';

const PASSWORD = 'correct horse battery';

export interface CrashOptions {
  /** Stops, each followed by a restart. */
  readonly kills: number;
  /** SIGKILL (a crash, the default) or SIGTERM (a graceful stop: exit 0 within 10 s). */
  readonly signal?: 'SIGKILL' | 'SIGTERM';
  /** A PostgreSQL URL (a throwaway database is made in it), or undefined for SQLite. */
  readonly postgres?: string | undefined;
  /** Publishers per door (REST, WebSocket, TCP, UDP). */
  readonly publishersPerDoor?: number;
  /** Random pause between a restart and the next kill, ms. */
  readonly killAfter?: readonly [number, number];
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface SubscriberResult {
  readonly name: string;
  readonly received: number;
  /** Last words heard from a stopping server: WebSocket close 1001, an `unavailable` frame on TCP and SSE. */
  readonly goodbyes: number;
  /** Empty when it received exactly the history. */
  readonly problem: string | undefined;
}

export interface CrashReport {
  readonly store: 'sqlite' | 'postgres';
  readonly kills: number;
  readonly signal: 'SIGKILL' | 'SIGTERM';
  /** Per stop: the exit code (or signal) and how long the server took to exit, ms. */
  readonly stops: { readonly exit: number | string; readonly ms: number }[];
  readonly seconds: number;
  /** Acknowledged publishes by door. */
  readonly acked: Record<string, number>;
  /** Messages in the history at the end. */
  readonly stored: number;
  readonly subscribers: SubscriberResult[];
  /** Every broken promise found; empty means the proof held. */
  readonly problems: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = ([lo, hi]: readonly [number, number]) => lo + Math.random() * (hi - lo);

/** A TCP port free on 127.0.0.1 now (the server is then started on it, and on it again after each stop). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One server process on fixed ports, started again after each kill. */
/** The server under test on fixed ports, started again after each kill. */
class Server {
  #current: ServeProcess | undefined;
  constructor(
    readonly args: string[],
    readonly url: string,
  ) {}

  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.#current = await ServeProcess.start(this.args);
        return;
      } catch (err) {
        // A port still held by the killed process's sockets: try again shortly.
        if (attempt >= 20) throw err;
        await sleep(100);
      }
    }
  }

  /** Stop it with `signal`; resolves with the exit code (or signal name) and the time it took. */
  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<{ exit: number | string; ms: number }> {
    const current = this.#current;
    if (!current) return { exit: 'not running', ms: 0 };
    this.#current = undefined;
    return current.kill(signal);
  }
}

async function json<T = Record<string, unknown>>(
  url: string,
  init: RequestInit & { token?: string } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(init.headers as object) };
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function runCrashProof(options: CrashOptions): Promise<CrashReport> {
  const log = options.log ?? (() => {});
  const perDoor = options.publishersPerDoor ?? 2;
  const killAfter = options.killAfter ?? [300, 1200];
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'porthouse-crash-'));
  let database: string | undefined;
  let storeArgs: string[] = [];
  if (options.postgres) {
    database = `porthouse_crash_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: options.postgres });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const u = new URL(options.postgres);
    u.pathname = `/${database}`;
    storeArgs = ['--postgres', u.toString()];
  }
  const port = await freePort();
  const socketPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = new Server(
    [
      '--port',
      String(port),
      '--tcp-port',
      String(socketPort),
      '--udp-port',
      String(socketPort),
      '--data',
      dir,
      '--rate-limits',
      'off',
      '--log-level',
      'warn',
      '--scrypt-cost',
      '10',
      ...storeArgs,
    ],
    url,
  );
  const closers: (() => void)[] = [];
  try {
    await server.start();
    await json(`${url}/v1/users`, {
      method: 'POST',
      body: JSON.stringify({ name: 'crash', password: PASSWORD }),
    });
    const token = (
      await json<{ token: string }>(`${url}/v1/tokens`, {
        method: 'POST',
        body: JSON.stringify({ name: 'crash', password: PASSWORD }),
      })
    ).body.token as string;
    await json(`${url}/v1/rooms`, { method: 'POST', token, body: JSON.stringify({ name: 'crash' }) });

    // Subscribers on the reliable doors, all from seq 0, resuming by themselves after each kill.
    const received = new Map<string, number[]>();
    const goodbyes = new Map<string, number>();
    const bye = (name: string) => goodbyes.set(name, (goodbyes.get(name) ?? 0) + 1);
    const realtime = (door: 'ws' | 'tcp', onSeq?: (seq: number) => void, name?: string) => {
      const c = new RealtimeClient({
        url,
        token,
        backoffMin: 50,
        backoffMax: 400,
        pubTimeout: 600_000,
        connect: (): WebSocketLike =>
          door === 'tcp'
            ? tcpSocket(`tcp://127.0.0.1:${socketPort}`)
            : (new WebSocket(`ws://127.0.0.1:${port}/v1/ws`) as unknown as WebSocketLike),
        onFrame: (f) => {
          if (f.type === 'msg') onSeq?.(f['seq'] as number);
          else if (name && f.type === 'error' && f['code'] === 'unavailable') bye(name);
        },
        onStatus: (status, detail) => {
          if (name && status === 'reconnecting' && detail?.startsWith('1001')) bye(name);
        },
      });
      closers.push(() => c.close());
      return c;
    };
    for (const door of ['ws', 'tcp'] as const) {
      const seqs: number[] = [];
      received.set(`${door} subscriber`, seqs);
      const c = realtime(door, (s) => seqs.push(s), `${door} subscriber`);
      c.subscribe('crash', 0);
      await c.ready();
    }
    const sseSeqs: number[] = [];
    received.set('sse subscriber', sseSeqs);
    const sse = followSse({
      server: url,
      room: 'crash',
      token,
      since: 0,
      onEvent: (e) => {
        if (e.event === 'msg') sseSeqs.push(JSON.parse(e.data).seq);
        else if (e.event === 'error' && JSON.parse(e.data).code === 'unavailable') bye('sse subscriber');
      },
    });
    closers.push(() => sse.close());

    // Publishers on every door, each publishing until told to stop, retrying until acknowledged.
    const acked = new Map<string, number>(); // text → seq
    const ackedBy: Record<string, number> = { http: 0, ws: 0, tcp: 0, udp: 0 };
    let stop = false;
    const lanes: Promise<void>[] = [];
    const record = (door: string, text: string, seq: number) => {
      const before = acked.get(text);
      if (before !== undefined && before !== seq)
        throw new Error(`${text} acknowledged as ${before} and ${seq}`);
      if (before === undefined) ackedBy[door]!++;
      acked.set(text, seq);
    };
    for (let p = 0; p < perDoor; p++) {
      for (const door of ['ws', 'tcp'] as const) {
        const c = realtime(door);
        await c.ready();
        lanes.push(
          (async () => {
            for (let k = 0; !stop; k++) {
              const text = `${door}${p}-${k}`;
              const { seq } = await c.publish('crash', text);
              record(door, text, seq);
            }
          })(),
        );
      }
      lanes.push(
        (async () => {
          for (let k = 0; !stop; k++) {
            const text = `http${p}-${k}`;
            const key = randomUUID();
            for (;;) {
              try {
                const r = await json<{ seq: number }>(`${url}/v1/rooms/crash/messages`, {
                  method: 'POST',
                  token,
                  headers: { 'idempotency-key': key },
                  body: JSON.stringify({ text }),
                });
                if (r.status === 200 || r.status === 201) {
                  record('http', text, r.body.seq);
                  break;
                }
                if (r.status < 500) throw new Error(`POST refused: ${r.status} ${JSON.stringify(r.body)}`);
              } catch (err) {
                if (!(err instanceof TypeError)) throw err; // fetch failed: the server is down
              }
              await sleep(50);
            }
          }
        })(),
      );
      const udp = new UdpClient({ url: `udp://127.0.0.1:${socketPort}`, token });
      closers.push(() => udp.close());
      lanes.push(
        (async () => {
          for (let k = 0; !stop; k++) {
            const text = `udp${p}-${k}`;
            const ref = `udp${p}-${k}-${randomUUID()}`;
            for (;;) {
              try {
                const ack = await udp.pub('crash', text, { ref, tries: 3, timeoutMs: 300 });
                record('udp', text, ack.seq);
                break;
              } catch (err) {
                if ((err as { code?: string }).code !== 'timeout') throw err;
              }
            }
          }
        })(),
      );
    }
    const publishing = Promise.all(lanes);
    let failure: unknown;
    publishing.catch((err) => {
      failure = err;
      stop = true;
    });

    const signal = options.signal ?? 'SIGKILL';
    const stops: { exit: number | string; ms: number }[] = [];
    for (let k = 1; k <= options.kills && failure === undefined; k++) {
      await sleep(between(killAfter));
      const before = acked.size;
      const ended = await server.kill(signal);
      stops.push(ended);
      log(
        `${signal} ${k}/${options.kills}: ${before} acknowledged so far; exit ${ended.exit} after ${ended.ms} ms`,
      );
      await server.start();
    }
    await sleep(between(killAfter));
    stop = true;
    await publishing.catch(() => {});
    if (failure !== undefined) throw failure;

    // The history, read over REST from the last server, is the reference.
    const history: { seq: number; text: string }[] = [];
    for (;;) {
      const page = await json<{ seq: number; text: string }[]>(
        `${url}/v1/rooms/crash/messages?after=${history.at(-1)?.seq ?? 0}&limit=100`,
        {
          token,
        },
      );
      history.push(...page.body);
      if (page.body.length < 100) break;
    }
    const problems: string[] = [];
    if (signal === 'SIGTERM')
      stops.forEach((s, i) => {
        if (s.exit !== 0 || s.ms > 10_000) problems.push(`stop ${i + 1}: exit ${s.exit} after ${s.ms} ms`);
      });
    history.forEach((m, i) => {
      if (m.seq !== i + 1) problems.push(`history hole or disorder at position ${i + 1}: seq ${m.seq}`);
    });
    const bySeq = new Map(history.map((m) => [m.seq, m.text]));
    const texts = new Map<string, number>();
    for (const m of history) texts.set(m.text, (texts.get(m.text) ?? 0) + 1);
    for (const [text, n] of texts) if (n > 1) problems.push(`"${text}" stored ${n} times`);
    for (const [text, seq] of acked)
      if (bySeq.get(seq) !== text)
        problems.push(`"${text}" acknowledged as seq ${seq}, which holds "${bySeq.get(seq)}"`);
    const total = history.length;
    const deadline = Date.now() + 30_000;
    while ([...received.values()].some((s) => s.length < total) && Date.now() < deadline) await sleep(50);
    const subscribers: SubscriberResult[] = [];
    for (const [name, seqs] of received) {
      let problem: string | undefined;
      if (seqs.length !== total) problem = `received ${seqs.length} messages, the history has ${total}`;
      const bad = seqs.findIndex((s, i) => s !== i + 1);
      if (bad >= 0) problem = `position ${bad + 1} is seq ${seqs[bad]} (duplicate, gap or disorder)`;
      if (problem) problems.push(`${name}: ${problem}`);
      subscribers.push({ name, received: seqs.length, goodbyes: goodbyes.get(name) ?? 0, problem });
    }
    return {
      store: options.postgres ? 'postgres' : 'sqlite',
      kills: options.kills,
      signal,
      stops,
      seconds: (Date.now() - started) / 1000,
      acked: ackedBy,
      stored: total,
      subscribers,
      problems,
    };
  } finally {
    for (const c of closers) c();
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
    if (database && options.postgres) {
      const admin = new pg.Client({ connectionString: options.postgres });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    }
  }
}
