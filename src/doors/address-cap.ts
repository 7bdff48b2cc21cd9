// Caps the connections one client address may hold open across the stream doors (HTTP with its
// WebSocket and SSE upgrades, and TCP), so that one address cannot take every descriptor. The
// refusal happens on accept, before any byte is parsed: a flood costs one write and a close.
import { isIPv6 } from 'node:net';
import type { Server, Socket } from 'node:net';

/**
 * The key an address is counted under. IPv4 (and IPv4-mapped IPv6) count per address; other IPv6
 * addresses count per /64, because one host is usually handed a whole /64 and could otherwise
 * open its connections from as many addresses as it likes.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, without zone and with `::` expanded. */
function expandIPv6(address: string): string[] {
  const bare = address.split('%')[0]!;
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (…::1.2.3.4) takes two groups; it never reaches the first four.
  const width = right.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const zeros =
    tail === undefined ? [] : Array.from({ length: Math.max(0, 8 - left.length - width) }, () => '0');
  return [...left, ...zeros, ...right].map((g) => g.replace(/^0+(?=.)/, '').toLowerCase());
}

export class AddressCap {
  readonly #open = new Map<string, number>();

  /** @param limit connections per address; 0 turns the cap off. */
  constructor(readonly limit: number) {}

  /** Counts the socket until it closes and returns true, or returns false when its address is full. */
  admit(socket: Socket): boolean {
    if (this.limit === 0) return true;
    const key = addressKey(socket.remoteAddress);
    const open = this.#open.get(key) ?? 0;
    if (open >= this.limit) return false;
    this.#open.set(key, open + 1);
    socket.once('close', () => {
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left <= 0) this.#open.delete(key);
      else this.#open.set(key, left);
    });
    return true;
  }

  /**
   * Puts the cap in front of a listening server: a connection over the cap is handed to `refuse`
   * and never reaches the server's own 'connection' listeners (HTTP parser, TLS, the door).
   */
  guard(server: Server, refuse: (socket: Socket) => void): void {
    if (this.limit === 0) return;
    const emit = server.emit.bind(server);
    server.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'connection' && !this.admit(args[0] as Socket)) {
        const socket = args[0] as Socket;
        socket.on('error', () => {
          // A refused client that resets first: nothing to do, 'close' follows.
        });
        refuse(socket);
        return true;
      }
      return emit(event, ...args);
    }) as typeof server.emit;
  }
}

/**
 * Writes `bytes`, half-closes, and reads and drops whatever the client still sends (closing with
 * unread input would reset the connection before the client reads the answer). A client that
 * never closes its side is cut after `lingerMs`.
 */
export function refuseWith(socket: Socket, bytes: string, lingerMs = 1000): void {
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
  socket.end(bytes);
}
