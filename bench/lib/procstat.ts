// CPU accounting beyond one child process (Linux /proc): how busy the whole machine was, and how
// much CPU the processes of a given name (postgres, redis-server) used, so a benchmark can say
// what else shared its cores.
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { cpuTimes } from './machine.js';

const CLK_TCK = 100; // USER_HZ, as in machine.ts.

/** Busy and total CPU seconds of the whole machine since boot, summed over every core. */
export function machineTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as [number, number, number, number, number, number, number, number];
  const busy = user + nice + system + irq + softirq;
  return { busy: busy / CLK_TCK, total: (busy + idle + iowait + steal) / CLK_TCK };
}

/** CPU seconds (user + system) of every live process whose name (comm) is one of `names`, by pid. */
export function processTimes(names: readonly string[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!names.includes(comm)) continue;
      const { user, system } = cpuTimes(Number(entry));
      out.set(Number(entry), user + system);
    } catch {
      // Gone between readdir and read.
    }
  }
  return out;
}

/**
 * CPU seconds those processes used between two snapshots: per pid still alive, its growth; a pid
 * that appeared in between counts whole. Processes that ended in between are not counted.
 */
export function processDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, seconds] of after) sum += seconds - (before.get(pid) ?? 0);
  return sum;
}

/** A snapshot of everything a run reports about CPU: some pids, some names, the machine, this process. */
export interface CpuSnapshot {
  readonly at: number;
  readonly pids: number;
  readonly named: Map<number, number>;
  readonly machine: { busy: number; total: number };
  readonly self: NodeJS.CpuUsage;
}

export function cpuSnapshot(pids: readonly number[], names: readonly string[]): CpuSnapshot {
  let sum = 0;
  for (const pid of pids) {
    const { user, system } = cpuTimes(pid);
    sum += user + system;
  }
  return {
    at: performance.now(),
    pids: sum,
    named: processTimes(names),
    machine: machineTimes(),
    self: process.cpuUsage(),
  };
}

/** CPU seconds between two snapshots, and each share in cores (1.00 = one core the whole time). */
export interface CpuUse {
  readonly seconds: number;
  /** The given pids (the nodes). */
  readonly pidsSeconds: number;
  /** The processes with the given names (PostgreSQL, Redis), whoever they serve. */
  readonly namedSeconds: number;
  /** This process (the load generator). */
  readonly selfSeconds: number;
  /** The whole machine: its busy share of /proc/stat's ticks × its cores × the wall time. */
  readonly machineBusySeconds: number;
  /** The machine's cores. */
  readonly cores: number;
}

export function cpuUse(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const seconds = (b.at - a.at) / 1000;
  const cores = cpus().length;
  // The tick counters and the wall clock are read at slightly different moments: use the busy
  // share of the ticks, not busy ticks over wall time.
  const share = (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total);
  return {
    seconds,
    pidsSeconds: b.pids - a.pids,
    namedSeconds: processDelta(a.named, b.named),
    selfSeconds: (b.self.user - a.self.user + b.self.system - a.self.system) / 1e6,
    machineBusySeconds: share * cores * seconds,
    cores,
  };
}
