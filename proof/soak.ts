// `npm run proof:soak`: 15 minutes of connection churn on one node (see lib/soak-run.ts), heap
// and RSS sampled throughout; `--plot FILE` writes them as an SVG. Loopback only.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runSoak, soakSvg } from './lib/soak-run.js';
import { judgeSoak } from './lib/soak-verdict.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '900' },
    clients: { type: 'string', default: '400' },
    rooms: { type: 'string', default: '20' },
    rate: { type: 'string', default: '20' },
    plot: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const r = await runSoak({
  seconds,
  clients: Number(values.clients),
  rooms: Number(values.rooms),
  rate: Number(values.rate),
  stayMs: [1000, 10_000],
  sampleEveryMs: Math.max(1000, Math.round((seconds * 1000) / 180)),
  warmupSeconds: Math.min(120, seconds / 5),
  log: (line) => process.stdout.write(`${line}\n`),
});
const mb = (v: number) => (v / 1048576).toFixed(1);
const { before, after } = r.idle;
process.stdout.write(
  `
churn: ${r.connects} connects, ${r.drops} drops without a goodbye, ${r.published} published, ${r.received} received
heap floor (each minute's lowest) after warm-up: ${(r.heap.slopePerMinute / 1024).toFixed(1)} KB/min (${mb(r.heap.growth)} MB over the run)
RSS floor after warm-up: ${(r.rss.slopePerMinute / 1024).toFixed(1)} KB/min (${mb(r.rss.growth)} MB over the run)
idle before → after: heap ${mb(before.heap)} → ${mb(after.heap)} MB, RSS ${mb(before.rss)} → ${mb(after.rss)} MB, fds ${before.fds} → ${after.fds}, handles ${before.handles} → ${after.handles}, timers ${before.timers} → ${after.timers}, connections ${before.connections} → ${after.connections}
violations: ${r.violations.length ? r.violations.join('; ') : 'none'}
`,
);
if (values.plot) {
  writeFileSync(
    values.plot,
    soakSvg(r.samples, `porthouse soak: ${Math.round(seconds / 60)} min of churn, ${values.clients} clients`),
  );
  process.stdout.write(`plot: ${values.plot}\n`);
}
const problems = judgeSoak(r);
for (const p of problems) process.stdout.write(`FAIL: ${p}\n`);
process.exit(problems.length ? 1 : 0);
