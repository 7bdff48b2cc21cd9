// A program in a real terminal: a detached tmux session of a given size, typed into as a person
// would, its screen read back. Killed when the test ends.
import { execFileSync } from 'node:child_process';

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });

let sessions = 0;

/**
 * Why a terminal test cannot run here (`program` is not installed), or undefined when it can.
 * As with the browser tests: skipped with the reason printed, except under CI=true, where a
 * missing program fails the run (.ci/run installs each from Debian's packages).
 */
export function programMissing(program: string): string | undefined {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return undefined;
  } catch {
    const reason = `no ${program} (apt-get install ${program})`;
    if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
    process.stderr.write(`\n*** SKIPPING a terminal test: ${reason} ***\n\n`);
    return reason;
  }
}

export interface Terminal {
  /** The screen's rows as text (tmux drops the spaces at the end of a row). */
  rows(): string[];
  /** The screen with its colour codes, as `capture-pane -e` gives it. */
  styled(): string;
  /** Type text, as is (no key names). */
  type(text: string): void;
  /** Press keys by tmux name: Enter, Home, C-c, … */
  press(...keys: string[]): void;
  /** Resolves with the rows once `ok` holds for them; fails with the screen after `ms`. */
  until(what: string, ok: (rows: string[]) => boolean, ms?: number): Promise<string[]>;
  /** Until some row matches `pattern`. */
  shows(pattern: RegExp, ms?: number): Promise<string[]>;
  close(): void;
}

/** Runs `command` (a shell command line) in a terminal of `columns` × `lines`. */
export function openTerminal(
  command: string,
  {
    columns = 80,
    lines = 24,
    after,
  }: { columns?: number; lines?: number; after?: (fn: () => void) => void } = {},
): Terminal {
  const name = `porthouse-test-${process.pid}-${++sessions}`;
  tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', String(lines), command);
  const rows = () => tmux('capture-pane', '-p', '-t', name).replace(/\n+$/, '').split('\n');
  const until = async (what: string, ok: (r: string[]) => boolean, ms = 15_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = rows();
      if (ok(r)) return r;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; the screen:\n${r.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const terminal: Terminal = {
    rows,
    styled: () => tmux('capture-pane', '-e', '-p', '-t', name),
    type: (text) => void tmux('send-keys', '-t', name, '-l', text),
    press: (...keys) => void tmux('send-keys', '-t', name, ...keys),
    until,
    shows: (pattern, ms) => until(String(pattern), (r) => r.some((row) => pattern.test(row)), ms),
    close() {
      try {
        tmux('kill-session', '-t', name);
      } catch {
        // Already gone.
      }
    },
  };
  after?.(() => terminal.close());
  return terminal;
}
