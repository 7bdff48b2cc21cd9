// Admins: every live socket of every door as a five-tuple (GET /v1/sockets), refreshed every two
// seconds while shown: the layers of the stack made visible.
import { useEffect, useState } from 'preact/hooks';
import type { SocketInfo as SocketEntry } from '../../src/core/types.js';
import { describeError } from './errors.js';
import type { Session } from './session.js';

const REFRESH_MS = 2000;

export function NetworkPanel({ session }: { session: Session }) {
  const [sockets, setSockets] = useState<SocketEntry[] | undefined>(undefined);
  const [error, setError] = useState('');
  const [updated, setUpdated] = useState<Date | undefined>(undefined);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // One poll at a time, the next REFRESH_MS after the last answer: a slow answer can never
    // land after, and overwrite, a newer one.
    const load = async () => {
      try {
        const { sockets } = await session.rest.request<{ sockets: SocketEntry[] }>('GET', '/v1/sockets');
        if (!live) return;
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
  return (
    <section class="network" aria-labelledby="network-title">
      <h2 id="network-title">Network</h2>
      <p class="hint">
        Every live socket on this node, named by its five-tuple: (protocol, local address, local port, remote
        address, remote port). TCP and UDP share port numbers yet are different sockets.
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
              <th scope="col">protocol</th>
              <th scope="col">local</th>
              <th scope="col">remote</th>
              <th scope="col">door</th>
              <th scope="col">state</th>
              <th scope="col">user</th>
              <th scope="col">rooms</th>
              <th scope="col">bytes in / out</th>
              <th scope="col">since</th>
            </tr>
          </thead>
          <tbody>
            {(sockets ?? []).map((s) => (
              <tr
                key={`${s.protocol}|${s.localAddress}|${s.localPort}|${s.remoteAddress}|${s.remotePort}|${s.door}`}
                data-door={s.door}
              >
                <td>{s.protocol.toUpperCase()}</td>
                <td>{endpoint(s.localAddress, s.localPort)}</td>
                <td>{s.remoteAddress === undefined ? '*' : endpoint(s.remoteAddress, s.remotePort)}</td>
                <td>{s.door}</td>
                <td>{s.state}</td>
                <td>{s.user ?? ''}</td>
                <td>{s.rooms?.join(', ') ?? ''}</td>
                <td>{s.bytesIn === undefined ? '' : `${s.bytesIn} / ${s.bytesOut ?? 0}`}</td>
                <td>{s.since ? new Date(s.since).toLocaleTimeString() : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const endpoint = (address: string, port: number | undefined) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
