// What counts as a failed fuzz run, in one place for `npm run proof:fuzz` and its test.
import type { FuzzReport } from './fuzz-run.js';

/** Heap growth allowed over the baseline, after a full GC: caches that fill once, not per case. */
export const HEAP_SLACK_BYTES = 8 * 1_048_576;

export function judgeFuzz(r: FuzzReport): string[] {
  const problems: string[] = [];
  for (const c of r.crashes) problems.push(`crash or unhandled rejection: ${c.split('\n')[0]}`);
  for (const d of r.doors) {
    if (d.stuck > 0) problems.push(`${d.door}: ${d.stuck} stuck connections`);
    if (d.internal > 0) problems.push(`${d.door}: ${d.internal} internal errors (${d.notes.join('; ')})`);
    if (d.answered + d.closed + d.stuck < d.cases) problems.push(`${d.door}: cases unaccounted for`);
  }
  if (r.after.heapUsed > r.baseline.heapUsed + HEAP_SLACK_BYTES)
    problems.push(`heap ${r.baseline.heapUsed} → ${r.after.heapUsed} bytes`);
  for (const [table, n] of Object.entries(r.after.server))
    if (n > (r.baseline.server[table] ?? 0))
      problems.push(`server ${table}: ${r.baseline.server[table]} → ${n}`);
  for (const [kind, n] of Object.entries(r.after.resources))
    if (n > (r.baseline.resources[kind] ?? 0))
      problems.push(`${kind}: ${r.baseline.resources[kind] ?? 0} → ${n}`);
  if (!r.healthy) problems.push('a fresh client was not served at the end');
  return problems;
}
