// Run the real `porthouse` command as a child process, the way a user or an operator would.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Served {
  readonly proc: ChildProcess;
  readonly url: string;
  /** Every line printed on stdout so far. */
  readonly lines: string[];
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

const QUIET = [
  '--scrypt-cost',
  '10',
  '--log-level',
  'warn',
  '--rate-limits',
  'off',
  '--tcp-port',
  '0',
  '--udp-port',
  '0',
];

/** `porthouse serve --port 0 …`, resolved once it printed its HTTP address. */
export function serve(dataDir: string, extra: string[] = []): Promise<Served> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', dataDir, ...QUIET, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return new Promise((resolve, reject) => {
    let buffer = '';
    proc.stderr!.on('data', (d) => {
      stderr += d;
    });
    proc.stdout!.on('data', (d) => {
      buffer += d;
      let i = buffer.indexOf('\n');
      while (i >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        lines.push(line);
        const m = /^porthouse http listening on (\S+)$/.exec(line);
        if (m) resolve({ proc, url: m[1]!, lines, exited });
        i = buffer.indexOf('\n');
      }
    });
    exited.then((code) => reject(new Error(`porthouse serve exited (${code}) before listening: ${stderr}`)));
  });
}

/** Run a one-shot command; resolves with its exit code and output. */
export function run(
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => {
      stdout += d;
    });
    proc.stderr.on('data', (d) => {
      stderr += d;
    });
    proc.stdin.end(input ?? '');
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
