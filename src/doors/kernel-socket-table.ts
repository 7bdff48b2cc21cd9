// The kernel's view of sockets, parsed from what Linux prints: `ss -tin` (TCP_INFO: round-trip
// time, congestion window, retransmits, bytes in flight, queues) and /proc/net/udp (a UDP
// socket's receive queue and drops). Pure functions over text, so they are tested without ss.
import type { TcpTransport, UdpTransport } from '../core/types.js';

/** `local address|local port|remote address|remote port`, addresses as Node names them. */
export const socketKey = (
  localAddress: string,
  localPort: number,
  remoteAddress: string,
  remotePort: number,
) => `${localAddress}|${localPort}|${remoteAddress}|${remotePort}`;

/** `127.0.0.1:8080`, `[::1]:8080`, `[fe80::1%lo]:80` → address and port. */
function endpoint(text: string): { address: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  let address = text.slice(0, colon);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const scope = address.indexOf('%');
  if (scope >= 0) address = address.slice(0, scope);
  return { address, port };
}

const number = (text: string | undefined): number | null => {
  if (text === undefined || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
};

/**
 * `ss -tin` (with or without its header and state column): each socket is a line of queues and
 * endpoints, then an indented line of `key:value` details.
 */
export function parseSsTcp(text: string): Map<string, TcpTransport> {
  const out = new Map<string, TcpTransport>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!;
    if (head === '' || /^\s/.test(head)) continue;
    const words = head.trim().split(/\s+/);
    // With a state filter ss leaves the state column out: queues come first then.
    const at = /^\d+$/.test(words[0] ?? '') ? 0 : 1;
    const receiveQueue = Number(words[at]);
    const sendQueue = Number(words[at + 1]);
    const local = endpoint(words[at + 2] ?? '');
    const peer = endpoint(words[at + 3] ?? '');
    if (!local || !peer || !Number.isFinite(receiveQueue) || !Number.isFinite(sendQueue)) continue;
    const details = /^\s/.test(lines[i + 1] ?? '') ? lines[++i]! : '';
    const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S+)`).exec(details)?.[1];
    const [rtt, rttVar] = (field('rtt') ?? '').split('/');
    const retrans = field('retrans')?.split('/')[1];
    const sent = number(field('bytes_sent'));
    const acked = number(field('bytes_acked'));
    out.set(socketKey(local.address, local.port, peer.address, peer.port), {
      rttMs: number(rtt),
      rttVarMs: number(rttVar),
      cwnd: number(field('cwnd')),
      retransmits: retrans === undefined ? (details === '' ? null : 0) : number(retrans),
      // bytes_acked counts one for the SYN; a connection that sent nothing has nothing in flight.
      bytesInFlight:
        sent === null ? (details === '' ? null : 0) : Math.max(0, sent - Math.max(0, (acked ?? 1) - 1)),
      notSent: number(field('notsent')) ?? (details === '' ? null : 0),
      sendQueue,
      receiveQueue,
    });
  }
  return out;
}

/** A /proc/net/udp{,6} address (`0100007F:1B9E`, little-endian words) as Node names it. */
function procAddress(hex: string): { address: string; port: number } | undefined {
  const [addr, port] = hex.split(':');
  if (addr === undefined || port === undefined) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < addr.length; w += 8) {
    const word = addr.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(word.slice(b, b + 2), 16));
  }
  if (bytes.some((b) => Number.isNaN(b))) return undefined;
  let address: string;
  if (bytes.length === 4) address = bytes.join('.');
  else {
    const groups: string[] = [];
    for (let g = 0; g < 16; g += 2) groups.push(((bytes[g]! << 8) | bytes[g + 1]!).toString(16));
    address = compressIpv6(groups);
  }
  return { address, port: Number.parseInt(port, 16) };
}

function compressIpv6(groups: string[]): string {
  // The longest run of zero groups becomes `::`, as Node prints addresses.
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

/** /proc/net/udp or /proc/net/udp6: each bound socket by `address|port`. */
export function parseProcNetUdp(text: string): Map<string, UdpTransport> {
  const out = new Map<string, UdpTransport>();
  for (const line of text.split('\n').slice(1)) {
    const words = line.trim().split(/\s+/);
    if (words.length < 13) continue;
    const local = procAddress(words[1]!);
    const [tx, rx] = (words[4] ?? '').split(':');
    if (!local || tx === undefined || rx === undefined) continue;
    out.set(`${local.address}|${local.port}`, {
      sendQueue: Number.parseInt(tx, 16),
      receiveQueue: Number.parseInt(rx, 16),
      drops: Number(words[12]),
    });
  }
  return out;
}
