// `npm run proof:hostile`: hostile clients against a real server, each beside a legitimate
// client measuring its own service (see lib/hostile-run.ts). Loopback only; stops by itself.
import { parseArgs } from 'node:util';
import {
  type HostileOptions,
  HostileServer,
  type Latency,
  slowHeaders,
  udpFlood,
  unauthenticatedTcp,
} from './lib/hostile-run.js';
import type { ServerMetrics } from './lib/serve-process.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    'udp-sources': { type: 'string', default: '49' },
    'udp-per-source': { type: 'string', default: '2000' },
    'udp-seconds': { type: 'string', default: '5' },
    'per-address': { type: 'string', default: '1000' },
  },
});
const options: HostileOptions = {
  connections: Number(values.connections),
  udpSources: Number(values['udp-sources']),
  udpPerSource: Number(values['udp-per-source']),
  udpSeconds: Number(values['udp-seconds']),
  headersTimeout: 5000,
  authTimeout: 5000,
  perAddress: Number(values['per-address']),
};
const ms = (v: number) => (Number.isNaN(v) ? '—' : v.toFixed(1));
const legit = (l: Latency) =>
  `${l.requests} requests, ${l.failed} failed, p50 ${ms(l.p50Ms)} ms, p99 ${ms(l.p99Ms)} ms, max ${ms(l.maxMs)} ms`;

const resources = ({ before: b, after: a }: { before: ServerMetrics; after: ServerMetrics }) =>
  `heap ${(b.heap / 1048576).toFixed(1)} → ${(a.heap / 1048576).toFixed(1)} MB, handles ${b.handles} → ${a.handles}, timers ${b.timers} → ${a.timers}, connections ${b.connections} → ${a.connections}`;

const server = new HostileServer();
await server.start(options);
let failed = false;
try {
  const token = await server.account();
  for (const run of [
    () => slowHeaders(server, token, options, false),
    () => slowHeaders(server, token, options, true),
    () => unauthenticatedTcp(server, token, options),
  ]) {
    const r = await run();
    process.stdout.write(
      `\n${r.name}: ${resources(r.resources)}\n  ${r.opened} opened, ${r.refused} refused at once by the per-address cap (${options.perAddress}), ${r.closedByServer} closed by the server in all (the last after ${ms(r.longestMs)} ms); server fds ${r.fds.join(' → ')}\n  legitimate client: ${legit(r.legit)}\n`,
    );
    if (r.closedByServer < r.opened || r.legit.failed > 0) failed = true;
  }
  const u = await udpFlood(server, token, options);
  process.stdout.write(
    `\n${u.name}: ${resources(u.resources)}\n  ${u.sources} sources, ${u.datagramsIn} datagrams, ${u.bytesIn} bytes in, ${u.bytesOut} bytes out (worst source ${u.worstRatio.toFixed(3)} out per byte in)\n  legitimate client: ${legit(u.legit)}\n`,
  );
  if (u.worstRatio > 1 || u.legit.failed > 0) failed = true;
} finally {
  await server.stop();
}
process.exit(failed ? 1 : 0);
