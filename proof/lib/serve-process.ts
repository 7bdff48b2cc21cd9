// `porthouse serve` as a child process, the way an operator runs it, for the proofs that must
// measure or kill the server from outside: its addresses from what it prints, and its memory,
// CPU and descriptors from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CLK_TCK = 100; // USER_HZ on Linux

export interface ProcessSample {
  /** Resident set, bytes (VmRSS). */
  readonly rss: number;
  /** user + system CPU seconds since the process started. */
  readonly cpu: number;
  readonly fds: number;
}

export interface ServerMetrics {
  /** V8 heap in use, bytes (garbage included: no GC is forced). */
  readonly heap: number;
  /** Libuv handles (sockets, servers, timers that keep the loop alive). */
  readonly handles: number;
  /** Active timers. */
  readonly timers: number;
  /** Open real-time connections, every door. */
  readonly connections: number;
  /** Connections refused on accept by the per-address cap since start, every door. */
  readonly refused: number;
}

/** What /metrics says about the process, summed where labelled. */
export async function serverMetrics(
  url: string,
  get: (url: string) => Promise<{ text(): Promise<string> }> = fetch,
): Promise<ServerMetrics> {
  const text = await (await get(`${url}/metrics`)).text();
  const one = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    heap: one(/^porthouse_nodejs_heap_size_used_bytes (\S+)/m),
    handles: one(/^porthouse_nodejs_active_handles_total (\S+)/m),
    timers: Number(/^porthouse_nodejs_active_resources\{type="Timeout"\} (\S+)/m.exec(text)?.[1] ?? 0),
    connections: sum(/^porthouse_realtime_connections\{[^}]*\} (\d+)/gm),
    refused: sum(/^porthouse_connections_refused_total\{[^}]*\} (\d+)/gm),
  };
}

export class ServeProcess {
  readonly lines: string[] = [];
  /** The last 64 KiB it wrote to standard error (its logs). */
  stderr = '';
  readonly exited: Promise<number | string>;
  url = '';
  tcpPort = 0;
  udpPort = 0;
  /** The IRC door's port, once its line was read (0 when it is off). */
  ircPort = 0;

  private constructor(readonly proc: ChildProcess) {
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
  }

  /** Starts `porthouse serve ARGS` and resolves once the HTTP, TCP and UDP doors all listen. */
  static start(
    args: readonly string[],
    options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {},
  ): Promise<ServeProcess> {
    const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'serve', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    const server = new ServeProcess(proc);
    let stderr = '';
    proc.stderr!.on('data', (d) => {
      stderr = (stderr + d).slice(-65_536);
      server.stderr = stderr;
    });
    return new Promise((resolve, reject) => {
      let buffer = '';
      proc.stdout!.on('data', (d) => {
        buffer += d;
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 1);
          server.lines.push(line);
          const http = /http listening on (\S+)/.exec(line);
          const tcp = /tcp listening on (?:tcp|tls):\/\/\S+:(\d+)/.exec(line);
          const udp = /udp listening on udp:\/\/\S+:(\d+)/.exec(line);
          const irc = /irc listening on irc:\/\/\S+:(\d+)/.exec(line);
          if (irc) server.ircPort = Number(irc[1]);
          if (http) server.url = http[1]!;
          if (tcp) server.tcpPort = Number(tcp[1]);
          if (udp) server.udpPort = Number(udp[1]);
          if (server.url && server.tcpPort && server.udpPort) resolve(server);
        }
      });
      void server.exited.then((code) =>
        reject(new Error(`porthouse serve exited (${code}): ${stderr.slice(-4000)}`)),
      );
    });
  }

  /**
   * `porthouse serve` on free ports with its data in `dataDir`, logging warnings only and
   * hashing passwords cheaply (no proof measures hashing, and their set-ups register users),
   * then `extra`.
   */
  static startOnFreePorts(
    dataDir: string,
    extra: readonly string[] = [],
    options: { env?: NodeJS.ProcessEnv } = {},
  ): Promise<ServeProcess> {
    return ServeProcess.start(
      [
        ...['--port', '0', '--tcp-port', '0', '--udp-port', '0', '--irc-port=-1', '--irc-tls-port=-1'],
        ...['--data', dataDir],
        ...['--log-level', 'warn', '--scrypt-cost', '10'],
        ...extra,
      ],
      options,
    );
  }

  get pid(): number {
    return this.proc.pid!;
  }

  sample(): ProcessSample {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    return { rss, cpu, fds: readdirSync(`/proc/${this.pid}/fd`).length };
  }

  /** Stops it with `signal`; resolves with the exit code (or signal name) and the time it took. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ exit: number | string; ms: number }> {
    const t0 = Date.now();
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    const exit = await this.exited;
    return { exit, ms: Date.now() - t0 };
  }
}
