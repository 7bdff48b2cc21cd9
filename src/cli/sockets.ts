// `porthouse sockets`: the node's live sockets as five-tuples (admin), one per line.
import { RestClient } from '../client/rest.js';
import type { SocketInfo } from '../core/types.js';
import { UsageError, clientContext } from './args.js';

export async function sockets(values: Record<string, unknown>): Promise<void> {
  const ctx = clientContext(values, process.env);
  if (!ctx.token) throw new UsageError('an admin token is needed: --token T or PORTHOUSE_TOKEN');
  const client = new RestClient({ server: ctx.server, token: ctx.token });
  const { sockets: list } = await client.request<{ sockets: SocketInfo[] }>('GET', '/v1/sockets');
  if (values['json']) {
    process.stdout.write(`${JSON.stringify(list)}\n`);
    return;
  }
  const rows = list.map((s) => [
    s.protocol.toUpperCase(),
    s.door,
    `${s.localAddress}:${s.localPort}`,
    s.state === 'listening' ? '(listening)' : `${s.remoteAddress}:${s.remotePort}`,
    s.user ?? '-',
    s.rooms && s.rooms.length > 0 ? s.rooms.join(',') : '-',
    s.bytesIn === undefined ? '-' : String(s.bytesIn),
    s.bytesOut === undefined ? '-' : String(s.bytesOut),
    s.transport && 'rttMs' in s.transport && s.transport.rttMs !== null ? String(s.transport.rttMs) : '-',
    s.transport ? String(s.transport.sendQueue) : '-',
  ]);
  const header = ['PROTO', 'DOOR', 'LOCAL', 'REMOTE', 'USER', 'ROOMS', 'IN', 'OUT', 'RTT-MS', 'SEND-Q'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows])
    process.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}
