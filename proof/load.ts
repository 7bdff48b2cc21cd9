// `npm run proof:load`: 10,000 WebSocket, 1,000 TCP, 1,000 SSE and 1,000 IRC subscribers on one node over
// 100 rooms, idle and then under a steady publish rate (see lib/load-run.ts). Loopback only.
import { parseArgs } from 'node:util';
import { type LoadReport, runLoad } from './lib/load-run.js';

const { values } = parseArgs({
  options: {
    ws: { type: 'string', default: '10000' },
    tcp: { type: 'string', default: '1000' },
    sse: { type: 'string', default: '1000' },
    irc: { type: 'string', default: '1000' },
    rooms: { type: 'string', default: '100' },
    users: { type: 'string', default: '200' },
    addresses: { type: 'string', default: '60' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    publishers: { type: 'string', default: '10' },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const r: LoadReport = await runLoad({
  ws: n('ws'),
  tcp: n('tcp'),
  sse: n('sse'),
  irc: n('irc'),
  rooms: n('rooms'),
  users: n('users'),
  addresses: n('addresses'),
  rate: n('rate'),
  seconds: n('seconds'),
  publishers: n('publishers'),
  log: (line) => process.stdout.write(`${line}\n`),
});
const kb = (bytes: number, count: number) => (count ? (bytes / count / 1024).toFixed(1) : '—');
const { base, ws, tcp, sse, irc } = r.memory;
const all = r.connections.ws + r.connections.tcp + r.connections.sse + r.connections.irc;
const p = r.publish;
process.stdout.write(
  `
connections: ${r.connections.ws} WebSocket, ${r.connections.tcp} TCP, ${r.connections.sse} SSE, ${r.connections.irc} IRC, connected in ${r.connectSeconds.toFixed(1)} s
server RSS: ${(base.rss / 1048576).toFixed(1)} MB with none → ${(irc.rss / 1048576).toFixed(1)} MB with all, idle
memory per idle connection (RSS): WebSocket ${kb(ws.rss - base.rss, r.connections.ws)} KB, TCP ${kb(tcp.rss - ws.rss, r.connections.tcp)} KB, SSE ${kb(sse.rss - tcp.rss, r.connections.sse)} KB, IRC ${kb(irc.rss - sse.rss, r.connections.irc)} KB, all ${kb(irc.rss - base.rss, all)} KB
heap in use: ${(r.heap.base / 1048576).toFixed(1)} → ${(r.heap.idle / 1048576).toFixed(1)} MB (${kb(r.heap.idle - r.heap.base, all)} KB per connection)
publish: ${p.sent} messages in ${p.seconds.toFixed(1)} s, ${p.acked} acknowledged; ${p.delivered} of ${p.expected} deliveries, missing ${p.missing}, duplicates ${p.duplicates}, out of order ${p.outOfOrder}
delivered/s: ${Math.round(p.deliveredPerSecond)}
latency pub → receipt: p50 ${p.latencyMs.p50.toFixed(1)} ms, p99 ${p.latencyMs.p99.toFixed(1)} ms, p99.9 ${p.latencyMs.p999.toFixed(1)} ms, max ${p.latencyMs.max.toFixed(1)} ms
server CPU: ${(p.serverCores * 100).toFixed(0)}% of one core, ${p.cpuMicrosPerDelivery.toFixed(2)} µs per delivery
server fds: ${r.fdsAfterClose.base} before → ${r.fdsAfterClose.after} after every client closed
`,
);
const ok = p.missing === 0 && p.duplicates === 0 && p.outOfOrder === 0 && p.acked === p.sent;
process.exit(ok ? 0 : 1);
