// `npm run proof:crash`: SIGKILL a real server at random moments while clients of every door
// publish and subscribe, then check every promise from the history alone (see lib/crash-run.ts).
// `--signal SIGTERM` makes each stop graceful instead, and also checks exit 0 within 10 s.
// SQLite always; PostgreSQL too when it answers (PORTHOUSE_TEST_POSTGRES, default the local one).
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { type CrashReport, runCrashProof } from './lib/crash-run.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    publishers: { type: 'string', default: '2' },
    store: { type: 'string', default: 'both' },
    signal: { type: 'string', default: 'SIGKILL' },
  },
});
const POSTGRES = process.env.PORTHOUSE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(port || 5432), hostname);
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function print(r: CrashReport): void {
  const acked = Object.entries(r.acked)
    .map(([door, n]) => `${door} ${n}`)
    .join(', ');
  process.stdout.write(
    `\n${r.store}: ${r.kills} × ${r.signal} in ${r.seconds.toFixed(1)} s (server exits: ${[...new Set(r.stops.map((s) => s.exit))].join(', ')}, slowest ${Math.max(...r.stops.map((s) => s.ms))} ms); acknowledged ${acked}; history ${r.stored} messages\n`,
  );
  for (const s of r.subscribers)
    process.stdout.write(
      `  ${s.name}: ${s.received} received, ${s.problem ?? 'exactly the history'}; ${s.goodbyes} goodbyes\n`,
    );
  process.stdout.write(
    r.problems.length === 0 ? '  every promise held\n' : `  BROKEN:\n    ${r.problems.join('\n    ')}\n`,
  );
}

const stores: (string | undefined)[] = [];
if (values.store !== 'postgres') stores.push(undefined);
if (values.store !== 'sqlite') {
  if (await reachable(POSTGRES)) stores.push(POSTGRES);
  else if (values.store === 'postgres') {
    process.stderr.write(`PostgreSQL at ${POSTGRES} does not answer\n`);
    process.exit(2);
  } else process.stdout.write(`(PostgreSQL at ${POSTGRES} does not answer: SQLite only)\n`);
}
let failed = false;
for (const postgres of stores) {
  const report = await runCrashProof({
    kills: Number(values.kills),
    signal: values.signal === 'SIGTERM' ? 'SIGTERM' : 'SIGKILL',
    publishersPerDoor: Number(values.publishers),
    postgres,
    log: (line) => process.stdout.write(`${postgres ? 'postgres' : 'sqlite'} ${line}\n`),
  });
  print(report);
  if (report.problems.length > 0) failed = true;
}
process.exit(failed ? 1 : 0);
