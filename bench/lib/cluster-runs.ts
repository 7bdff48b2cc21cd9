// The cluster benchmark's clients and runs: WebSocket subscribers and publishers spread over one
// or more porthouse nodes that share a room (PostgreSQL + Redis), a burst with a bounded window of
// unacked pubs per publisher (throughput), and a fixed total rate (latency). bench/cluster.ts
// drives them.
import { WebSocket } from 'ws';
import type { Tally } from './fanout-runs.js';

export interface NodeEndpoint {
  readonly index: number;
  /** ws://host:port/v1/ws */
  readonly wsUrl: string;
}

/** A subscriber counts `msg` frames without parsing them; in a latency run it reads the stamp. */
export interface ClusterSubscriber {
  readonly node: number;
  received: number;
  onMessage: ((data: Buffer) => void) | undefined;
  close(): void;
}

/** A publisher keeps its own count of acks and errors (the few frames it gets are parsed). */
export interface ClusterPublisher {
  readonly node: number;
  acked: number;
  errors: string[];
  /** Called on every ack and every error frame. */
  onReply: (() => void) | undefined;
  send(text: string): void;
  close(): void;
}

const ROOM = 'bench';
const MSG_PREFIX = Buffer.from('{"type":"msg"');

function open(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

export async function subscriber(
  node: NodeEndpoint,
  token: string,
  delivered: () => void,
  room = ROOM,
): Promise<ClusterSubscriber> {
  const ws = await open(node.wsUrl, token);
  const sub: ClusterSubscriber = {
    node: node.index,
    received: 0,
    onMessage: undefined,
    close: () => ws.terminate(),
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${node.index}: no subbed within 10 s`)), 10_000);
    ws.on('message', (data: Buffer) => {
      if (
        data.length >= MSG_PREFIX.length &&
        data.compare(MSG_PREFIX, 0, MSG_PREFIX.length, 0, MSG_PREFIX.length) === 0
      ) {
        sub.received++;
        sub.onMessage?.(data);
        delivered();
      } else if (data.toString('latin1', 0, 16) === '{"type":"subbed"') {
        clearTimeout(timer);
        resolve();
      } else if (data.toString('latin1', 0, 15) === '{"type":"error"') {
        clearTimeout(timer);
        reject(new Error(`node ${node.index}: ${data.toString()}`));
      }
    });
    ws.send(JSON.stringify({ type: 'sub', room }));
  });
  return sub;
}

let publishers = 0;

/** A publisher that sends to `rooms` in turn. */
export async function publisher(
  node: NodeEndpoint,
  token: string,
  rooms: readonly string[] = [ROOM],
): Promise<ClusterPublisher> {
  const ws = await open(node.wsUrl, token);
  // A ref is an idempotency key of the user (every client here is the same user): a ref used by
  // another publisher would be answered with that one's message, not stored again.
  const prefix = `${node.index}.${++publishers}.`;
  let ref = 0;
  const quoted = rooms.map((r) => JSON.stringify(r));
  const pub: ClusterPublisher = {
    node: node.index,
    acked: 0,
    errors: [],
    onReply: undefined,
    send: (text) =>
      ws.send(
        `{"type":"pub","room":${quoted[ref % quoted.length]},"text":${JSON.stringify(text)},"ref":"${prefix}${++ref}"}`,
      ),
    close: () => ws.terminate(),
  };
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as { type: string };
    if (frame.type === 'ack') pub.acked++;
    else if (frame.type === 'error') pub.errors.push(data.toString());
    else return;
    pub.onReply?.();
  });
  return pub;
}

function fail(pubs: readonly ClusterPublisher[], what: string): void {
  const errors = pubs.flatMap((p) => p.errors);
  if (errors.length) throw new Error(`${what}: ${errors.length} pubs refused, first: ${errors[0]}`);
}

export interface BurstResult {
  readonly messages: number;
  readonly deliveries: number;
  /** First pub to last delivery. */
  readonly seconds: number;
  /** First pub to last ack. */
  readonly ackSeconds: number;
  readonly deliveredPerSecond: number;
  readonly storedPerSecond: number;
}

/**
 * `messages` pubs shared among the publishers, each keeping at most `window` unacked; resolves
 * once every subscriber has every message (checked per subscriber: none missing, none twice).
 */
export async function burst(
  pubs: readonly ClusterPublisher[],
  subs: readonly ClusterSubscriber[],
  tally: Tally,
  o: {
    messages: number;
    window: number;
    textBytes: number;
    timeoutMs: number;
    /** Subscribers of each message when they follow different rooms (each then gets a share). */
    deliveriesPerMessage?: number;
  },
): Promise<BurstResult> {
  const text = 'x'.repeat(o.textBytes);
  const before = subs.map((s) => s.received);
  const start = tally.count;
  let lastAck = 0;
  const t0 = performance.now();
  const replied = pubs.map(
    (pub, p) =>
      new Promise<void>((resolve) => {
        const share = Math.floor(o.messages / pubs.length) + (p < o.messages % pubs.length ? 1 : 0);
        const base = pub.acked + pub.errors.length;
        const replies = () => pub.acked + pub.errors.length - base;
        let sent = 0;
        const pump = () => {
          while (sent < share && sent - replies() < o.window) {
            pub.send(text);
            sent++;
          }
        };
        pub.onReply = () => {
          if (replies() < share) return pump();
          lastAck = Math.max(lastAck, performance.now());
          pub.onReply = undefined;
          resolve();
        };
        if (share === 0) resolve();
        else pump();
      }),
  );
  const total = (o.deliveriesPerMessage ?? subs.length) * o.messages;
  const deliveredAll = tally.reach(start + total, o.timeoutMs, `burst of ${o.messages}`);
  deliveredAll.catch(() => {}); // awaited below, after the acks
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(replied),
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`burst: not every pub answered within ${o.timeoutMs} ms`)),
        o.timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  fail(pubs, 'burst');
  await deliveredAll;
  const tEnd = performance.now();
  const wrong =
    o.deliveriesPerMessage === undefined ? subs.filter((s, i) => s.received - before[i]! !== o.messages) : [];
  if (wrong.length)
    throw new Error(
      `burst: ${wrong.length} subscribers did not get exactly ${o.messages} messages (e.g. ${wrong[0]!.received - before[subs.indexOf(wrong[0]!)]!})`,
    );
  const seconds = (tEnd - t0) / 1000;
  const ackSeconds = (lastAck - t0) / 1000;
  return {
    messages: o.messages,
    deliveries: total,
    seconds,
    ackSeconds,
    deliveredPerSecond: total / seconds,
    storedPerSecond: o.messages / ackSeconds,
  };
}

export interface Percentiles {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}
export interface LatencyResult {
  readonly messages: number;
  readonly all: Percentiles;
  /** Deliveries by the node the message was published on (no Redis hop). */
  readonly sameNode: Percentiles;
  /** Deliveries by another node (through Redis). */
  readonly otherNode: Percentiles;
  readonly lost: number;
}

function percentiles(samples: Float64Array): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { samples: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? Number.NaN };
}

/**
 * `rate` messages/s in total for `seconds`, on a fixed schedule, round robin over the publishers.
 * Each text starts `<performance.now()>|<node>|`: the send time and the publisher's node, read
 * straight from the frame's bytes (one clock: every client is this process).
 */
export async function latency(
  pubs: readonly ClusterPublisher[],
  subs: readonly ClusterSubscriber[],
  tally: Tally,
  o: { rate: number; seconds: number; textBytes: number },
): Promise<LatencyResult> {
  const messages = Math.round(o.rate * o.seconds);
  const expected = subs.length * messages;
  const same = new Float64Array(expected);
  const other = new Float64Array(expected);
  let nSame = 0;
  let nOther = 0;
  for (const s of subs)
    s.onMessage = (data) => {
      const now = performance.now();
      const bar = data.indexOf(0x7c); // '|'
      const quote = data.lastIndexOf(0x22, bar); // '"'
      const sent = Number(data.toString('latin1', quote + 1, bar));
      const from = data[bar + 1]! - 0x30;
      if (from === s.node) {
        if (nSame < expected) same[nSame++] = now - sent;
      } else if (nOther < expected) other[nOther++] = now - sent;
    };
  const start0 = tally.count;
  try {
    const gap = 1000 / o.rate;
    const start = performance.now();
    for (let i = 0; i < messages; i++) {
      // A fixed schedule, not "sleep after send", so a slow server cannot lower the rate.
      const wait = start + i * gap - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const pub = pubs[i % pubs.length]!;
      pub.send(`${performance.now().toFixed(3)}|${pub.node}|`.padEnd(o.textBytes, 'x'));
    }
    await tally.reach(start0 + expected, 30_000, 'latency run').catch(() => {});
    fail(pubs, 'latency run');
  } finally {
    for (const s of subs) s.onMessage = undefined;
  }
  return {
    messages,
    all: percentiles(Float64Array.from([...same.subarray(0, nSame), ...other.subarray(0, nOther)])),
    sameNode: percentiles(same.subarray(0, nSame)),
    otherNode: percentiles(other.subarray(0, nOther)),
    lost: expected - nSame - nOther,
  };
}
