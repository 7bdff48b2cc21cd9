// Reads the kernel's view of this node's sockets for GET /v1/sockets: TCP_INFO through `ss -tin`
// (only the doors' own ports), UDP queues and drops from /proc/net/udp. Never on a hot path:
// at most one read per `ttlMs` however many ask, bounded in time and output; undefined where
// the platform cannot say (not Linux, no ss).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { TcpTransport, UdpTransport } from '../core/types.js';
import { parseProcNetUdp, parseSsTcp } from './kernel-socket-table.js';

export interface KernelSocketsOptions {
  /** How long one reading serves every caller (ms). */
  readonly ttlMs: number;
  /** Longest `ss` may take before the reading is given up (ms). */
  readonly timeoutMs?: number;
}

/** Most output read from ss: about 4,000 connections' worth; past it the reading is dropped. */
const MAX_SS_BYTES = 4 * 1024 * 1024;

interface Cached<T> {
  readonly at: number;
  readonly key: string;
  readonly value: Promise<T | undefined>;
}

export class KernelSockets {
  #tcp: Cached<Map<string, TcpTransport>> | undefined;
  #udp: Cached<Map<string, UdpTransport>> | undefined;

  constructor(private readonly options: KernelSocketsOptions) {}

  /** TCP_INFO of every connection on one of `ports` (local side), by socketKey. */
  tcp(ports: readonly number[]): Promise<Map<string, TcpTransport> | undefined> {
    const key = [...ports].sort((a, b) => a - b).join(',');
    const now = Date.now();
    if (this.#tcp && this.#tcp.key === key && now - this.#tcp.at < this.options.ttlMs) return this.#tcp.value;
    const value =
      process.platform === 'linux' && ports.length > 0
        ? readSs(ports, this.options.timeoutMs ?? 2000)
        : Promise.resolve(undefined);
    this.#tcp = { at: now, key, value };
    return value;
  }

  /** Every bound UDP socket, by `address|port`. */
  udp(): Promise<Map<string, UdpTransport> | undefined> {
    const now = Date.now();
    if (this.#udp && now - this.#udp.at < this.options.ttlMs) return this.#udp.value;
    const value = process.platform === 'linux' ? readUdp() : Promise.resolve(undefined);
    this.#udp = { at: now, key: '', value };
    return value;
  }
}

function readSs(ports: readonly number[], timeout: number): Promise<Map<string, TcpTransport> | undefined> {
  const filter = ['('];
  for (const [i, p] of ports.entries()) filter.push(...(i === 0 ? [] : ['or']), 'sport', '=', `:${p}`);
  filter.push(')');
  return new Promise((resolve) => {
    execFile('ss', ['-tinH', ...filter], { timeout, maxBuffer: MAX_SS_BYTES }, (err, stdout) => {
      resolve(err ? undefined : parseSsTcp(stdout));
    });
  });
}

async function readUdp(): Promise<Map<string, UdpTransport> | undefined> {
  const out = new Map<string, UdpTransport>();
  let read = false;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      for (const [k, v] of parseProcNetUdp(await readFile(file, 'utf8'))) out.set(k, v);
      read = true;
    } catch {
      // No IPv6 (or no /proc): the other file may still say.
    }
  }
  return read ? out : undefined;
}
