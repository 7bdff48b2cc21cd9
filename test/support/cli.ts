// Run the real `porthouse` command as a child process, the way a user or an operator would.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      // A config directory of its own unless the test gives one: no login of whoever runs the
      // suite leaks into it, and none it makes leaks out.
      env: { ...process.env, XDG_CONFIG_HOME: isolatedConfig(), ...env },
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

let config: string | undefined;
/** One empty config directory for the suite's CLI runs that do not name their own. */
function isolatedConfig(): string {
  config ??= mkdtempSync(join(tmpdir(), 'porthouse-cli-config-'));
  return config;
}
