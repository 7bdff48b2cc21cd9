// Run the real `porthouse` command as a child process, the way a user or an operator would.
import { spawn } from 'node:child_process';
import { CLI, ServeProcess } from '../../proof/lib/serve-process.js';

export { CLI };

/** A node started by `serve`: its process, address, printed lines and exit. */
export type Served = ServeProcess;

/** `porthouse serve` on free ports, quiet, rate limits off, then `extra`; resolved once every door listens. */
export function serve(dataDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  return ServeProcess.startOnFreePorts(dataDir, ['--rate-limits', 'off', ...extra], { env });
}

/** Run a one-shot command; resolves with its exit code and output. */
export function run(
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
      ...(cwd ? { cwd } : {}),
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
