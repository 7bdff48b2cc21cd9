// `npm run proof:fuzz`: every door of a real server fuzzed with --cases cases each (10,000 by
// default): never a crash, an unhandled rejection, a 5xx or `internal`, or a stuck connection;
// memory, handles and the server's tables back to the baseline after. Loopback only.
import { parseArgs } from 'node:util';
import { type FuzzReport, runFuzz } from './lib/fuzz-run.js';
import { judgeFuzz } from './lib/fuzz-verdict.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '20261126' },
    lanes: { type: 'string', default: '4' },
  },
});
const report: FuzzReport = await runFuzz(
  { cases: Number(values.cases), seed: Number(values.seed), lanes: Number(values.lanes), deadlineMs: 10_000 },
  (line) => process.stdout.write(`${line}\n`),
);
const mb = (n: number) => (n / 1_048_576).toFixed(1);
for (const d of report.doors) {
  const codes = Object.entries(d.codes)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  process.stdout.write(
    `\n${d.door}: ${d.cases} cases in ${(d.ms / 1000).toFixed(1)} s; answered ${d.answered}, closed by the server ${d.closed}, stuck ${d.stuck}, internal ${d.internal}\n  codes: ${codes}\n${d.notes.map((n) => `  ${n}\n`).join('')}`,
  );
}
const { baseline: b, after: a } = report;
process.stdout.write(
  `\nheap ${mb(b.heapUsed)} → ${mb(a.heapUsed)} MB, rss ${mb(b.rss)} → ${mb(a.rss)} MB\nresources ${JSON.stringify(b.resources)} → ${JSON.stringify(a.resources)}\nserver ${JSON.stringify(b.server)} → ${JSON.stringify(a.server)}\ncrashes ${report.crashes.length}; healthy at the end: ${report.healthy}\n`,
);
const problems = judgeFuzz(report);
for (const p of problems) process.stdout.write(`FAIL: ${p}\n`);
process.exit(problems.length ? 1 : 0);
