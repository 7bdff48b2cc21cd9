// Benchmark child servers: spawned directly (no shell), so the pid is the server's own and
// /proc/PID/stat is its CPU time. Every child is tracked and stopped on every way out.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly url: string;
  /** The last few KB of the child's stderr, for error reports. */
  stderrTail(): string;
  /** The first 16 KB of its stdout (porthouse prints every door's address there). */
  stdout(): string;
}

const children = new Set<ChildProcess>();
const dataDirs = new Set<string>();

/** A fresh data directory for a child server, removed with the children. */
export function makeDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'porthouse-bench-'));
  dataDirs.add(dir);
  return dir;
}

function removeDataDirs(): void {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  dataDirs.clear();
}

export function startChild(
  name: string,
  nodeArgs: string[],
  readyLine: RegExp,
  options: { ipc?: boolean } = {},
): Promise<Child> {
  const proc = spawn(process.execPath, nodeArgs, {
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  let tail = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4096);
  });
  const stderrTail = () => tail;
  let out = '';
  return new Promise<Child>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${name} did not start within 20 s`)), 20_000);
    const finish = (err: Error | undefined, url?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(new Error(`${err.message}\n--- ${name} stderr ---\n${tail}`));
      else resolve({ name, proc, pid: proc.pid!, url: url!, stderrTail, stdout: () => out });
    };
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      if (out.length < 16_384) out += chunk;
      if (done) return;
      const m = readyLine.exec(out);
      if (m) finish(undefined, m[1]);
    });
    proc.on('error', (err) => finish(err));
    proc.on('exit', (code, signal) => finish(new Error(`${name} exited early (code ${code}, ${signal})`)));
  });
}

const PORTHOUSE_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/**
 * `porthouse serve` as a benchmark runs it: the real CLI and its defaults, on 127.0.0.1 and free
 * ports, with rate limits and the per-address connection cap off (every client of a benchmark
 * connects from 127.0.0.1), logging warnings only; then `extra`. `nodeArgs` go to node (profiling).
 */
export function startPorthouse(
  name: string,
  dataDir: string,
  extra: readonly string[] = [],
  nodeArgs: readonly string[] = [],
): Promise<Child> {
  return startChild(
    name,
    [
      ...nodeArgs,
      PORTHOUSE_CLI,
      'serve',
      ...['--host', '127.0.0.1', '--port', '0', '--tcp-port', '0', '--udp-port', '0', '--irc-port=-1'],
      ...['--data', dataDir],
      ...['--rate-limits', 'off', '--max-connections-per-address', '0', '--log-level', 'warn'],
      ...extra,
    ],
    /porthouse http listening on (http:\/\/\S+)/,
  );
}

/**
 * `n` nodes of one deployment on `postgresUrl` and `redisUrl`, with a channel of their own,
 * started one after the other (the first runs the migrations on an empty database).
 */
export async function startClusterNodes(
  n: number,
  postgresUrl: string,
  redisUrl: string,
  nodeArgs: readonly string[] = [],
): Promise<Child[]> {
  const dataDir = makeDataDir();
  const channel = `porthouse:bench:${randomUUID()}`;
  const nodes: Child[] = [];
  for (let i = 0; i < n; i++) {
    const dir = join(dataDir, `node${i}`);
    mkdirSync(dir);
    nodes.push(
      await startPorthouse(
        `node${i}`,
        dir,
        [
          ...['--postgres', postgresUrl, '--redis', redisUrl, '--redis-channel', channel],
          '--scrypt-cost',
          '10',
        ],
        nodeArgs,
      ),
    );
  }
  return nodes;
}

export async function stopChildren(): Promise<void> {
  const waits = [...children].map(
    (proc) =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const kill = setTimeout(() => proc.kill('SIGKILL'), 8_000);
        proc.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  );
  await Promise.all(waits);
  removeDataDirs();
}

// Last resort: whatever way the process leaves, no server outlives it.
process.on('exit', () => {
  for (const proc of children) proc.kill('SIGKILL');
  removeDataDirs();
});

let stopping = false;
export async function abort(reason: string, code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    process.stderr.write(`bench: ${reason}; stopping the servers\n`);
    await stopChildren().catch(() => {});
  }
  process.exit(code);
}
process.on('SIGINT', () => void abort('interrupted (SIGINT)', 130));
process.on('SIGTERM', () => void abort('terminated (SIGTERM)', 143));
