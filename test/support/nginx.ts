// The machine's nginx, for the tests that run the shipped deploy/nginx configuration:
// PORTHOUSE_TEST_NGINX names the binary, else `nginx` on the PATH or /usr/sbin/nginx. It must have
// the stream module (built in, or Debian's libnginx-mod-stream). When it cannot be had, its tests
// are skipped with the reason printed loudly, except under CI=true, where that fails the run.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface Nginx {
  /** The binary to run. */
  readonly bin: string;
  readonly version: string;
  /** Where the stream module's .so is, or undefined when it is built in. */
  readonly streamModule: string | undefined;
}

interface AfterHook {
  after(fn: () => unknown): void;
}

/** `nginx -V` of the first binary that answers (it prints to stderr), or why none did. */
function configure(bin: string): Promise<string | Error> {
  return new Promise((resolve) =>
    execFile(bin, ['-V'], { timeout: 5000 }, (err, stdout, stderr) =>
      resolve(err ? err : `${stdout}${stderr}`),
    ),
  );
}

let found: Promise<Nginx | string> | undefined;

/** The usable nginx, or why there is none. Asked once per process. */
export function findNginx(): Promise<Nginx | string> {
  found ??= (async () => {
    const candidates = process.env.PORTHOUSE_TEST_NGINX
      ? [process.env.PORTHOUSE_TEST_NGINX]
      : ['nginx', '/usr/sbin/nginx'];
    const failures: string[] = [];
    for (const bin of candidates) {
      const out = await configure(bin);
      if (out instanceof Error) {
        failures.push(`${bin}: ${out.message.split('\n')[0]}`);
        continue;
      }
      const version = /nginx version: nginx\/(\S+)/.exec(out)?.[1] ?? 'unknown';
      if (/--with-stream(\s|$)/.test(out)) return { bin, version, streamModule: undefined };
      if (!/--with-stream=dynamic/.test(out))
        return `${bin} (${version}) was built without the stream module`;
      const modules = /--modules-path=(\S+)/.exec(out)?.[1] ?? '/usr/lib/nginx/modules';
      const streamModule = join(modules, 'ngx_stream_module.so');
      if (!existsSync(streamModule))
        return `${bin} (${version}) has no ${streamModule} (Debian: apt-get install libnginx-mod-stream)`;
      return { bin, version, streamModule };
    }
    return `no nginx (${failures.join('; ')}); Debian: apt-get install nginx libnginx-mod-stream`;
  })();
  return found;
}

/** Why the nginx tests cannot run here, or undefined when they can. */
export async function nginxMissing(): Promise<string | undefined> {
  const nginx = await findNginx();
  if (typeof nginx !== 'string') return undefined;
  const text = `${nginx}; set PORTHOUSE_TEST_NGINX or install it`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${text}`);
  process.stderr.write(`\n*** SKIPPING the nginx tests: ${text} ***\n\n`);
  return text;
}

export interface RunningNginx {
  readonly proc: ChildProcess;
  /** Everything nginx printed on stderr so far (its error log). */
  log(): string;
  /** Ends nginx (fast shutdown, then SIGKILL) and resolves once it has exited. */
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Run `nginx -p prefix -c conf` in the foreground (daemon off, its pid file in prefix, its error log
 * on stderr) until `tcpPorts` all accept connections; stopped after the test.
 */
export async function runNginx(
  t: AfterHook,
  nginx: Nginx,
  prefix: string,
  conf: string,
  tcpPorts: number[],
): Promise<RunningNginx> {
  // Builds whose compiled-in error log is relative (logs/error.log) open it before the config.
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const proc = spawn(
    nginx.bin,
    ['-p', `${prefix}/`, '-c', conf, '-g', `daemon off; pid ${join(prefix, 'nginx.pid')}; error_log stderr;`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  // Never leave an nginx behind, even when the test process ends without its after hooks.
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    if (exited) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };
  t.after(stop);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(`nginx exited at start:\n${stderr}`);
    if ((await Promise.all(tcpPorts.map(accepts))).every(Boolean)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx not listening on ${tcpPorts.join(', ')} within 10 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, log: () => stderr, stop };
}
