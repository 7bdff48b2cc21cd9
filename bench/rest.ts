// REST benchmark: porthouse (the real CLI, in its own process, durable defaults) against a bare
// fastify peer (also in its own process), measured the same way in the same run with autocannon.
//
//   npm run bench:rest -- [--duration 10] [--warmup 2] [--connections 100]
//                         [--scenarios posts,get] [--cpu-prof-dir DIR [--cpu-prof-interval US]]
//
// Scenarios: (a) durable posts (POST /v1/rooms/ROOM/messages, 201 each) beside bare POST /bare;
// (b) cached GETs (GET /v1/rooms/ROOM/messages with If-None-Match, 304 each) beside GET /bare.
// Prints a table, writes .bench/rest-<timestamp>.json, exits 0 whether or not the targets are met
// and 1 when any request failed (a non-2xx post, a non-304 cached GET, a socket error, a timeout).
// Loopback only; both servers are always stopped at the end, on error and on SIGINT/SIGTERM.
import { mkdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { OPTIONS } from '../src/config.js';
import { type Child, abort, makeDataDir, startChild, startPorthouse, stopChildren } from './lib/children.js';
import { commitStats, cpuSeconds, machineInfo } from './lib/machine.js';

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '100' },
    scenarios: { type: 'string', default: 'posts,get' },
    'cpu-prof-dir': { type: 'string' },
    'cpu-prof-interval': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

if (flags.help) {
  process.stdout.write(
    'usage: node dist/bench/rest.js [--duration S] [--warmup S] [--connections N]\n' +
      '                              [--scenarios posts,get] [--cpu-prof-dir DIR [--cpu-prof-interval US]]\n',
  );
  process.exit(0);
}

function positive(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`bench: --${name} must be a number >= ${min}, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

const DURATION = positive('duration', flags.duration, 1);
const WARMUP = positive('warmup', flags.warmup, 0);
const CONNECTIONS = Math.floor(positive('connections', flags.connections, 1));
const SCENARIOS = new Set(flags.scenarios.split(',').map((s) => s.trim()));
for (const s of SCENARIOS) {
  if (s !== 'posts' && s !== 'get') {
    process.stderr.write(`bench: unknown scenario ${JSON.stringify(s)} (expected posts, get)\n`);
    process.exit(2);
  }
}
/** Profile the porthouse child (node --cpu-prof); the .cpuprofile is written when it stops. */
const CPU_PROF_DIR = flags['cpu-prof-dir'];
const CPU_PROF_INTERVAL = flags['cpu-prof-interval'];

/** Targets, as porthouse req/s over bare req/s in the same run. */
const TARGETS = { posts: 0.5, get: 0.7 } as const;
const SETUP_MESSAGES = 50;
const POST_BODY = JSON.stringify({ text: 'hello' });

const here = fileURLToPath(new URL('.', import.meta.url));
const BARE_PEER = join(here, 'peers', 'bare-fastify.js');

// ---------------------------------------------------------------------------------------------
// Measurements

function fsTypeOf(path: string): string {
  const names: Record<number, string> = {
    61267: 'ext2/3/4',
    16914836: 'tmpfs',
    1481003842: 'xfs',
    2435016766: 'btrfs',
    2035054128: 'overlayfs',
  };
  try {
    const { type } = statfsSync(path);
    return names[type] ?? `0x${type.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

interface Target {
  readonly child: Child;
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** The status every answer must have; anything else is an error. */
  readonly expect: '2xx' | 304;
}

interface RunResult {
  readonly server: string;
  readonly method: string;
  readonly path: string;
  readonly seconds: number;
  readonly requests: number;
  readonly reqPerSec: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  readonly statusCodes: Record<string, number>;
  /** Socket errors, timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  /** Answers without the expected status, plus socket errors and timeouts (warm-up included). */
  readonly failed: number;
  readonly warmupFailed: number;
  readonly serverCpuSeconds: number;
  readonly serverCpuPer1000: number;
  /** Server CPU time over wall time: 1.0 is one core fully busy. */
  readonly serverCores: number;
  /** The same for this process (autocannon, the load generator). */
  readonly loadGenCores: number;
}

function statusCodesOf(r: autocannon.Result): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) out[code] = v.count ?? 0;
  return out;
}

function failuresOf(r: autocannon.Result, expect: Target['expect']): number {
  const codes = statusCodesOf(r);
  const answered = Object.values(codes).reduce((a, b) => a + b, 0);
  const good =
    expect === 304
      ? (codes['304'] ?? 0)
      : Object.entries(codes)
          .filter(([c]) => c.startsWith('2'))
          .reduce((a, [, n]) => a + n, 0);
  // autocannon's `errors` already include its `timeouts`.
  return answered - good + r.errors + r.mismatches;
}

function cannon(t: Target, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: t.child.url + t.path,
    method: t.method,
    headers: t.headers,
    ...(t.body === undefined ? {} : { body: t.body }),
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
  });
}

async function measure(t: Target): Promise<RunResult> {
  let warmupFailed = 0;
  if (WARMUP > 0) warmupFailed = failuresOf(await cannon(t, WARMUP), t.expect);
  const cpu0 = cpuSeconds(t.child.pid);
  const own0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  const r = await cannon(t, DURATION);
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  const own = process.cpuUsage(own0);
  const cpu = cpuSeconds(t.child.pid) - cpu0;
  const requests = r.requests.total;
  const failed = failuresOf(r, t.expect);
  return {
    server: t.child.name,
    method: t.method,
    path: t.path,
    seconds: r.duration,
    requests,
    reqPerSec: requests / r.duration,
    latencyMs: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
      mean: r.latency.mean,
    },
    statusCodes: statusCodesOf(r),
    errors: r.errors,
    timeouts: r.timeouts,
    failed,
    warmupFailed,
    serverCpuSeconds: cpu,
    serverCpuPer1000: requests > 0 ? (cpu / requests) * 1000 : Number.NaN,
    serverCores: cpu / wall,
    loadGenCores: (own.user + own.system) / 1e6 / wall,
  };
}

/** porthouse's group-commit figures, from its Prometheus endpoint. */
// ---------------------------------------------------------------------------------------------
// HTTP set-up against porthouse

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const h: Record<string, string> = { ...headers };
  if (token) h['authorization'] = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers: h,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

function expectStatus(what: string, r: { status: number; json: unknown }, status: number): void {
  if (r.status !== status)
    throw new Error(`set-up: ${what} answered ${r.status}, expected ${status}: ${JSON.stringify(r.json)}`);
}

async function setUp(base: string): Promise<{ token: string; room: string }> {
  const name = 'bench';
  const password = 'benchmark password';
  const room = 'bench';
  expectStatus('register', await call(base, 'POST', '/v1/users', { name, password }), 201);
  const login = await call(base, 'POST', '/v1/tokens', { name, password });
  expectStatus('log in', login, 201);
  const token = (login.json as { token: string }).token;
  expectStatus('create room', await call(base, 'POST', '/v1/rooms', { name: room }, token), 201);
  for (let i = 0; i < SETUP_MESSAGES; i++) {
    const r = await call(base, 'POST', `/v1/rooms/${room}/messages`, { text: `setup ${i}` }, token);
    expectStatus('post', r, 201);
  }
  return { token, room };
}

// ---------------------------------------------------------------------------------------------
// Report

interface ScenarioResult {
  readonly name: 'posts' | 'get';
  readonly title: string;
  readonly porthouse: RunResult;
  readonly bare: RunResult;
  readonly ratio: number;
  readonly target: number;
  readonly met: boolean;
  readonly extra?: Record<string, unknown>;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

function report(results: ScenarioResult[]): string {
  const head = [
    'scenario',
    'porthouse req/s',
    'bare req/s',
    'ratio',
    'target',
    'met',
    'porthouse p50/p99 ms',
    'bare p50/p99 ms',
    'porthouse CPU s/1k req',
    'bare CPU s/1k req',
    'porthouse cores',
    'bare cores',
    'failed',
  ];
  const rows = results.map((s) => [
    s.title,
    fmt(s.porthouse.reqPerSec),
    fmt(s.bare.reqPerSec),
    fmt(s.ratio, 2),
    `≥ ${s.target}`,
    s.met ? 'yes' : 'NO',
    `${fmt(s.porthouse.latencyMs.p50)} / ${fmt(s.porthouse.latencyMs.p99)}`,
    `${fmt(s.bare.latencyMs.p50)} / ${fmt(s.bare.latencyMs.p99)}`,
    fmt(s.porthouse.serverCpuPer1000, 3),
    fmt(s.bare.serverCpuPer1000, 3),
    fmt(s.porthouse.serverCores, 2),
    fmt(s.bare.serverCores, 2),
    `${s.porthouse.failed + s.porthouse.warmupFailed} / ${s.bare.failed + s.bare.warmupFailed}`,
  ]);
  return table([head, ...rows]);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const perRun = WARMUP + DURATION + 15;
  const budget = (SCENARIOS.size * 2 * perRun + 120) * 1000;
  setTimeout(() => void abort(`took longer than ${Math.round(budget / 1000)} s`, 3), budget).unref();

  const machine = machineInfo();
  const settings = {
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    connections: CONNECTIONS,
    pipelining: 1,
  };
  process.stdout.write(
    `porthouse REST benchmark\n` +
      `date: ${machine.date}\nnode: ${machine.node}\ncpu: ${machine.cpu} (${machine.cores} cores)\n` +
      `code: ${machine.commit}\n` +
      `autocannon in-process, ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per run\n`,
  );

  const dataDir = makeDataDir();
  const dataFs = fsTypeOf(dataDir);
  const profArgs = CPU_PROF_DIR
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${CPU_PROF_DIR}`,
        ...(CPU_PROF_INTERVAL
          ? [`--cpu-prof-interval=${positive('cpu-prof-interval', CPU_PROF_INTERVAL, 1)}`]
          : []),
      ]
    : [];
  const [porthouse, bare] = await Promise.all([
    startPorthouse('porthouse', dataDir, [], profArgs),
    startChild('bare', [BARE_PEER], /bare listening on (http:\/\/\S+)/, { ipc: true }),
  ]);
  process.stdout.write(
    `porthouse pid ${porthouse.pid} at ${porthouse.url} (data ${dataDir} on ${dataFs}; sqlite synchronous = ${process.env.PORTHOUSE_SQLITE_SYNCHRONOUS ?? OPTIONS.sqliteSynchronous.default})\n` +
      `bare fastify pid ${bare.pid} at ${bare.url}\n`,
  );

  const { token, room } = await setUp(porthouse.url);
  const history = `/v1/rooms/${room}/messages`;
  const results: ScenarioResult[] = [];
  const json = { 'content-type': 'application/json' };

  if (SCENARIOS.has('posts')) {
    process.stdout.write('\n(a) durable posts ...\n');
    const before = await commitStats(porthouse.url);
    // The peer gets the very same request headers (it ignores them), so both parse the same
    // bytes and the ratio is the cost of porthouse's work, not of a longer request.
    const headers = { ...json, authorization: `Bearer ${token}` };
    const p = await measure({
      child: porthouse,
      path: history,
      method: 'POST',
      headers,
      body: POST_BODY,
      expect: '2xx',
    });
    const after = await commitStats(porthouse.url);
    const b = await measure({
      child: bare,
      path: '/bare',
      method: 'POST',
      headers,
      body: POST_BODY,
      expect: '2xx',
    });
    const commits = after.commits - before.commits;
    const ratio = p.reqPerSec / b.reqPerSec;
    results.push({
      name: 'posts',
      title: 'durable posts (POST, 201)',
      porthouse: p,
      bare: b,
      ratio,
      target: TARGETS.posts,
      met: ratio >= TARGETS.posts,
      extra: {
        // Warm-up and measured run together: the metrics cannot tell them apart.
        groupCommits: commits,
        writesPerCommit: (after.writes - before.writes) / commits,
        meanCommitMs: ((after.seconds - before.seconds) / commits) * 1000,
      },
    });
  }

  if (SCENARIOS.has('get')) {
    process.stdout.write('(b) cached GETs ...\n');
    // Every post changes the history ETag, so take it now, after the posts.
    const first = await call(porthouse.url, 'GET', history, undefined, token);
    expectStatus('history', first, 200);
    const etag = first.headers.get('etag');
    if (!etag) throw new Error('set-up: the history page has no ETag');
    const check = await call(porthouse.url, 'GET', history, undefined, token, { 'if-none-match': etag });
    expectStatus('conditional history', check, 304);
    const headers = { authorization: `Bearer ${token}`, 'if-none-match': etag };
    const p = await measure({ child: porthouse, path: history, method: 'GET', headers, expect: 304 });
    const b = await measure({ child: bare, path: '/bare', method: 'GET', headers, expect: '2xx' });
    const ratio = p.reqPerSec / b.reqPerSec;
    results.push({
      name: 'get',
      title: 'cached GET (If-None-Match, 304)',
      porthouse: p,
      bare: b,
      ratio,
      target: TARGETS.get,
      met: ratio >= TARGETS.get,
      extra: { etag },
    });
  }

  await stopChildren();

  process.stdout.write(`\n${report(results)}\n\n`);
  for (const s of results) {
    process.stdout.write(
      `${s.title}: ${fmt(s.ratio, 2)}× the bare route; target ≥ ${s.target}× ${s.met ? 'met' : 'MISSED'}\n`,
    );
    if (s.extra && s.name === 'posts')
      process.stdout.write(
        `  group commit: ${fmt(s.extra['writesPerCommit'] as number, 1)} posts per commit (one fsync), ` +
          `${fmt(s.extra['meanCommitMs'] as number, 2)} ms per commit on average\n`,
      );
    process.stdout.write(
      `  load generator (this process) used ${fmt(s.porthouse.loadGenCores, 2)} / ${fmt(s.bare.loadGenCores, 2)} cores ` +
        'during the porthouse / bare runs\n',
    );
  }

  mkdirSync('.bench', { recursive: true });
  const file = join('.bench', `rest-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ machine: { ...machine, dataFs }, settings, targets: TARGETS, scenarios: results }, null, 2)}\n`,
  );
  process.stdout.write(`\nwrote ${file}\n`);

  let failed = false;
  for (const s of results) {
    for (const r of [s.porthouse, s.bare]) {
      if (r.failed + r.warmupFailed > 0) {
        failed = true;
        process.stderr.write(
          `bench: FAILED REQUESTS in "${s.title}" against ${r.server}: ${r.failed} in the measured run, ` +
            `${r.warmupFailed} in the warm-up (status codes ${JSON.stringify(r.statusCodes)}, ` +
            `${r.errors} socket errors of which ${r.timeouts} timeouts)\n`,
        );
      }
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) =>
    void abort(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1),
);
