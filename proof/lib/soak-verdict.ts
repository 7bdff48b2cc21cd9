// What counts as a failed soak, in one place for `npm run proof:soak` and its test.
import type { SoakReport } from './soak-run.js';

/** Rise of the fitted floor after warm-up that counts as a leak. */
export const HEAP_GROWTH_LIMIT = 8 * 1_048_576;
export const RSS_GROWTH_LIMIT = 24 * 1_048_576;

export function judgeSoak(r: SoakReport, options: { trend: boolean } = { trend: true }): string[] {
  const problems = [...r.violations];
  const { before, after } = r.idle;
  if (options.trend) {
    if (r.heap.growth > HEAP_GROWTH_LIMIT) problems.push(`heap grew ${r.heap.growth} bytes after warm-up`);
    if (r.rss.growth > RSS_GROWTH_LIMIT) problems.push(`RSS grew ${r.rss.growth} bytes after warm-up`);
  }
  // Every client left: descriptors, handles, timers and connections are what they were.
  if (after.fds > before.fds) problems.push(`fds ${before.fds} → ${after.fds}`);
  if (after.handles > before.handles) problems.push(`handles ${before.handles} → ${after.handles}`);
  if (after.timers > before.timers) problems.push(`timers ${before.timers} → ${after.timers}`);
  if (after.connections > 0) problems.push(`${after.connections} connections still open`);
  if (r.connects < r.drops) problems.push('more drops than connects');
  if (r.received === 0) problems.push('nothing was received');
  return problems;
}
