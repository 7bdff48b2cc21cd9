// Admins: every live socket of every door as a five-tuple (GET /v1/sockets) with the kernel's
// view of it (RTT, congestion window, retransmits, queues), refreshed every two seconds while
// shown, sortable by any column; a socket whose send queue keeps growing is marked: the slow
// consumer before it is cut off. The layers of the stack made visible.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SocketInfo as SocketEntry, TcpTransport, UdpTransport } from '../../src/core/types.js';
import { describeError } from './errors.js';
import type { Session } from './session.js';

const REFRESH_MS = 2000;

const keyOf = (s: SocketEntry) =>
  `${s.protocol}|${s.localAddress}|${s.localPort}|${s.remoteAddress}|${s.remotePort}|${s.door}`;
const tcpOf = (s: SocketEntry) =>
  s.transport && 'rttMs' in s.transport ? (s.transport as TcpTransport) : undefined;
const udpOf = (s: SocketEntry) =>
  s.transport && 'drops' in s.transport ? (s.transport as UdpTransport) : undefined;

/** The columns, each with how it sorts (undefined sorts last). */
const COLUMNS: {
  id: string;
  label: string;
  title?: string;
  value: (s: SocketEntry) => number | string | undefined;
}[] = [
  { id: 'protocol', label: 'protocol', value: (s) => s.protocol },
  { id: 'local', label: 'local', value: (s) => `${s.localAddress}:${String(s.localPort).padStart(5, '0')}` },
  {
    id: 'remote',
    label: 'remote',
    value: (s) =>
      s.remoteAddress === undefined
        ? undefined
        : `${s.remoteAddress}:${String(s.remotePort).padStart(5, '0')}`,
  },
  { id: 'door', label: 'door', value: (s) => s.door },
  { id: 'state', label: 'state', value: (s) => s.state },
  { id: 'user', label: 'user', value: (s) => s.user },
  { id: 'rooms', label: 'rooms', value: (s) => s.rooms?.join(', ') },
  {
    id: 'rtt',
    label: 'RTT ms',
    title: 'smoothed round-trip time ± its variance (TCP_INFO)',
    value: (s) => tcpOf(s)?.rttMs ?? undefined,
  },
  {
    id: 'cwnd',
    label: 'cwnd',
    title: 'congestion window, in segments',
    value: (s) => tcpOf(s)?.cwnd ?? undefined,
  },
  {
    id: 'retrans',
    label: 'retrans',
    title: 'segments retransmitted',
    value: (s) => tcpOf(s)?.retransmits ?? undefined,
  },
  {
    id: 'flight',
    label: 'in flight',
    title: 'bytes sent and not yet acknowledged',
    value: (s) => tcpOf(s)?.bytesInFlight ?? undefined,
  },
  {
    id: 'sendq',
    label: 'send-Q',
    title: 'bytes waiting to be sent or acknowledged',
    value: (s) => (tcpOf(s) ?? udpOf(s))?.sendQueue,
  },
  {
    id: 'recvq',
    label: 'recv-Q',
    title: 'bytes waiting for porthouse to read',
    value: (s) => (tcpOf(s) ?? udpOf(s))?.receiveQueue,
  },
  {
    id: 'drops',
    label: 'drops',
    title: 'UDP datagrams dropped for a full receive buffer',
    value: (s) => udpOf(s)?.drops,
  },
  { id: 'bytes', label: 'bytes in / out', value: (s) => s.bytesIn },
  { id: 'since', label: 'since', value: (s) => s.since },
];

export function NetworkPanel({ session }: { session: Session }) {
  const [sockets, setSockets] = useState<SocketEntry[] | undefined>(undefined);
  const [error, setError] = useState('');
  const [updated, setUpdated] = useState<Date | undefined>(undefined);
  const [sort, setSort] = useState<{ id: string; descending: boolean } | undefined>(undefined);
  /** Each socket's send queue at the last two polls: growing twice in a row is marked. */
  const queues = useRef(new Map<string, number[]>());

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // One poll at a time, the next REFRESH_MS after the last answer: a slow answer can never
    // land after, and overwrite, a newer one.
    const load = async () => {
      try {
        const { sockets } = await session.rest.request<{ sockets: SocketEntry[] }>('GET', '/v1/sockets');
        if (!live) return;
        const seen = new Map<string, number[]>();
        for (const s of sockets) {
          const q = (tcpOf(s) ?? udpOf(s))?.sendQueue;
          if (q !== undefined) seen.set(keyOf(s), [...(queues.current.get(keyOf(s)) ?? []), q].slice(-3));
        }
        queues.current = seen;
        setSockets(sockets);
        setUpdated(new Date());
        setError('');
      } catch (err) {
        if (live) setError(describeError(err));
      }
      if (live) timer = setTimeout(load, REFRESH_MS);
    };
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [session]);

  const doors = sockets ? [...new Set(sockets.map((s) => s.door))] : [];
  const growing = (s: SocketEntry) => {
    const q = queues.current.get(keyOf(s)) ?? [];
    return q.length === 3 && q[0]! < q[1]! && q[1]! < q[2]!;
  };
  const column = COLUMNS.find((c) => c.id === sort?.id);
  const shown = [...(sockets ?? [])];
  if (sort && column)
    shown.sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      if (x === y) return 0;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const order = x < y ? -1 : 1;
      return sort.descending ? -order : order;
    });
  const sortBy = (id: string) =>
    setSort((now) => (now?.id === id ? { id, descending: !now.descending } : { id, descending: false }));
  return (
    <section class="network" aria-labelledby="network-title">
      <h2 id="network-title">Network</h2>
      <p class="hint">
        Every live socket on this node, named by its five-tuple: (protocol, local address, local port, remote
        address, remote port). TCP and UDP share port numbers yet are different sockets. RTT, congestion
        window, retransmits and queues are the kernel's own view (TCP_INFO); a send queue that keeps growing
        is a client reading too slowly.
        {updated && <span> Updated {updated.toLocaleTimeString()}.</span>}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {sockets && (
        <p class="summary" aria-live="polite">
          {sockets.length} sockets:{' '}
          {doors.map((d) => `${sockets.filter((s) => s.door === d).length} ${d}`).join(', ')}
        </p>
      )}
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Live sockets</caption>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th
                  scope="col"
                  key={c.id}
                  aria-sort={sort?.id === c.id ? (sort.descending ? 'descending' : 'ascending') : 'none'}
                >
                  <button
                    type="button"
                    class="sort"
                    title={c.title}
                    onClick={() => sortBy(c.id)}
                    data-column={c.id}
                  >
                    {c.label}
                    {sort?.id === c.id ? (sort.descending ? ' ▼' : ' ▲') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => {
              const tcp = tcpOf(s);
              const udp = udpOf(s);
              const rising = growing(s);
              return (
                <tr
                  key={keyOf(s)}
                  data-door={s.door}
                  class={rising ? 'growing' : undefined}
                  data-growing={rising ? 'yes' : undefined}
                >
                  <td>{s.protocol.toUpperCase()}</td>
                  <td>{endpoint(s.localAddress, s.localPort)}</td>
                  <td>{s.remoteAddress === undefined ? '*' : endpoint(s.remoteAddress, s.remotePort)}</td>
                  <td>{s.door}</td>
                  <td>{s.state}</td>
                  <td>{s.user ?? ''}</td>
                  <td>{s.rooms?.join(', ') ?? ''}</td>
                  <td data-cell="rtt">{tcp?.rttMs == null ? '' : `${tcp.rttMs} ± ${tcp.rttVarMs ?? '?'}`}</td>
                  <td>{tcp?.cwnd ?? ''}</td>
                  <td>{tcp?.retransmits ?? ''}</td>
                  <td>{tcp?.bytesInFlight ?? ''}</td>
                  <td data-cell="sendq">
                    {(tcp ?? udp)?.sendQueue ?? ''}
                    {rising && <span class="warning"> growing: a slow reader</span>}
                  </td>
                  <td>{(tcp ?? udp)?.receiveQueue ?? ''}</td>
                  <td>{udp?.drops ?? ''}</td>
                  <td>{s.bytesIn === undefined ? '' : `${s.bytesIn} / ${s.bytesOut ?? 0}`}</td>
                  <td>{s.since ? new Date(s.since).toLocaleTimeString() : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const endpoint = (address: string, port: number | undefined) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
