// What a benchmark reports about where it ran, and the CPU time of a process.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { nodeMetrics } from './node-metrics.js';

const CLK_TCK = 100; // USER_HZ; 100 on every Linux architecture Node supports.

/** User and system (kernel) CPU seconds a process has used so far (Linux /proc). */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) is parenthesised and may hold spaces; fields after it start at 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[14 - 3]) / CLK_TCK, system: Number(fields[15 - 3]) / CLK_TCK };
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** The code measured: commit, with -dirty when the working tree has changes. */
export function gitDescribe(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo() {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model,
    cores: cpus().length,
    platform: `${process.platform} ${process.arch}`,
    commit: gitDescribe(),
  };
}

/** porthouse's group-commit counters from its /metrics: commits, writes in them, seconds spent, and the waits for the disk. */
export async function commitStats(url: string): Promise<{
  commits: number;
  writes: number;
  seconds: number;
  /** Statements sent by group commits (PostgreSQL only; NaN on SQLite). */
  statements: number;
  syncs: number;
  syncSeconds: number;
  /** Syncs that kept their writes waiting more than 5 ms. */
  slowSyncs: number;
}> {
  const series = await nodeMetrics(url);
  const value = (name: string) => series(name) ?? Number.NaN;
  return {
    commits: value('porthouse_store_commit_batch_size_count'),
    writes: value('porthouse_store_commit_batch_size_sum'),
    seconds: value('porthouse_store_commit_duration_seconds_sum'),
    statements: value('porthouse_store_statements_total'),
    syncs: value('porthouse_store_sync_wait_seconds_count'),
    syncSeconds: value('porthouse_store_sync_wait_seconds_sum'),
    slowSyncs:
      value('porthouse_store_sync_wait_seconds_count') -
      value('porthouse_store_sync_wait_seconds_bucket{le="0.005"}'),
  };
}
