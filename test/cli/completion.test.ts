// `porthouse completion bash`: the script completes every command the usage lists, their
// subcommands and the client flags, in a real bash.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { COMMANDS } from '../../src/cli/completion.js';
import { CLI, run } from '../support/cli.js';

/** What bash completes for `words`, the last one being typed. */
function complete(script: string, words: string[]): string[] {
  const line = ['porthouse', ...words];
  const out = spawnSync(
    'bash',
    [
      '-c',
      `${script}\nCOMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _porthouse; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split('\n').filter(Boolean).sort();
}

test('completes commands, subcommands and flags, and knows every command the usage lists', async () => {
  const { code, stdout: script } = await run(['completion', 'bash']);
  assert.equal(code, 0);
  assert.deepEqual(complete(script, ['ro']), ['room', 'rooms']);
  assert.deepEqual(complete(script, ['room', '']), ['create', 'delete', 'set', 'show']);
  assert.ok(complete(script, ['history', 'general', '--l']).includes('--limit'));
  assert.deepEqual(complete(script, ['whoami', '--js']), ['--json']);

  const usage = (await run(['help'])).stdout;
  const listed = new Set([...usage.matchAll(/^ +porthouse ([a-z-]+)/gm)].map((m) => m[1]!));
  for (const command of listed) assert.ok(command in COMMANDS, `${command} completes`);
  for (const command of Object.keys(COMMANDS)) {
    const help = await run([command, '--help']);
    assert.equal(help.code, 0, `${command} is a command (${CLI})`);
  }
  assert.equal((await run(['completion', 'fish'])).code, 2);
  assert.match((await run(['completion', 'zsh'])).stdout, /bashcompinit/);
});
