// Clients of a cluster under fire: WebSocket and TCP subscribers and publishers spread over the
// nodes, each one a RealtimeClient that reconnects to whichever node is still up, resumes with
// since and re-sends unacknowledged pubs with their ref. Then the one check that matters: the
// history is 1..N with every message once, every ack points at its own message, and every
// subscriber saw exactly the history, in order.
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { type Frame, RealtimeClient, type WebSocketLike } from '../../src/client/realtime.js';
import { tcpSocket } from '../../src/client/tcp-socket.js';
import type { Api } from './server.js';
import { wsUrl } from './ws.js';

export interface ClusterNode {
  /** http://… of the node. */
  readonly url: string;
  /** tcp://… of the node's TCP door. */
  readonly tcp: string;
  /** False once the test took the node down: clients go elsewhere. */
  alive: boolean;
}

export interface Burst {
  /** Every subscriber: its name, and the seq of each `msg` it received, in arrival order. */
  readonly seen: Map<string, number[]>;
  /** Frames of every client by name (presence, errors…). */
  readonly frames: Map<string, { at: number; frame: Frame }[]>;
  /** text → seq of every acknowledged pub. */
  readonly acked: Map<string, number>;
  /** Starts the publishers; resolves when every pub is acknowledged. */
  publish(onProgress?: (acked: number) => void): Promise<void>;
  close(): void;
}

const pickFrom = (nodes: ClusterNode[], home: number): ClusterNode => {
  for (let k = 0; k < nodes.length; k++) {
    const n = nodes[(home + k) % nodes.length]!;
    if (n.alive) return n;
  }
  throw new Error('no node is up');
};

/**
 * `subsPerNode` subscribers of each door on each node, and `publishers` publishers (alternating
 * WebSocket and TCP, spread over the nodes) posting `perPublisher` messages each to `room`.
 */
export async function startBurst(
  nodes: ClusterNode[],
  token: string,
  room: string,
  options: { subsPerNode: number; publishers: number; perPublisher: number; window?: number },
): Promise<Burst> {
  const seen = new Map<string, number[]>();
  const frames = new Map<string, { at: number; frame: Frame }[]>();
  const acked = new Map<string, number>();
  const clients: RealtimeClient[] = [];
  const client = (name: string, home: number, door: 'ws' | 'tcp', got?: number[]) => {
    const log: { at: number; frame: Frame }[] = [];
    frames.set(name, log);
    const c = new RealtimeClient({
      url: 'picked per connection',
      token,
      backoffMin: 50,
      backoffMax: 500,
      pubTimeout: 120_000,
      connect: (): WebSocketLike => {
        const node = pickFrom(nodes, home);
        return door === 'tcp'
          ? tcpSocket(node.tcp)
          : (new WebSocket(wsUrl(node.url)) as unknown as WebSocketLike);
      },
      onFrame: (frame) => {
        log.push({ at: Date.now(), frame });
        if (got && frame.type === 'msg') got.push(frame['seq'] as number);
      },
    });
    clients.push(c);
    return c;
  };
  for (const [i] of nodes.entries())
    for (let j = 0; j < options.subsPerNode; j++)
      for (const door of ['ws', 'tcp'] as const) {
        const name = `${door}-sub-node${i}-${j}`;
        const got: number[] = [];
        seen.set(name, got);
        const c = client(name, i, door, got);
        c.subscribe(room, 0);
        await c.ready();
      }
  const pubs = Array.from({ length: options.publishers }, (_, p) =>
    client(`pub-${p}`, p % nodes.length, p % 2 === 0 ? 'ws' : 'tcp'),
  );
  await Promise.all(pubs.map((c) => c.ready()));
  return {
    seen,
    frames,
    acked,
    async publish(onProgress) {
      const window = options.window ?? 16;
      await Promise.all(
        pubs.map(async (c, p) => {
          let next = 0;
          const lane = async () => {
            while (next < options.perPublisher) {
              const text = `p${p}-${next++}`;
              const { seq } = await c.publish(room, text);
              acked.set(text, seq);
              onProgress?.(acked.size);
            }
          };
          await Promise.all(Array.from({ length: window }, lane));
        }),
      );
    },
    close() {
      for (const c of clients) c.close();
    },
  };
}

/** Every message of `room` from the REST history, oldest first. */
export async function readHistory(api: Api, room: string): Promise<{ seq: number; text: string }[]> {
  const all: { seq: number; text: string }[] = [];
  for (;;) {
    const page = (await api.get(`/v1/rooms/${room}/messages?after=${all.at(-1)?.seq ?? 0}&limit=100`))
      .body as { seq: number; text: string }[];
    all.push(...page);
    if (page.length < 100) return all;
  }
}

/**
 * The promises, checked: the history is 1..total with each published text once, each ack names
 * its own message, and each subscriber received exactly the history's seqs, once, in order.
 */
export async function checkBurst(burst: Burst, api: Api, room: string, total: number): Promise<void> {
  assert.equal(burst.acked.size, total, 'every pub acknowledged');
  const history = await readHistory(api, room);
  const seqs = Array.from({ length: total }, (_, i) => i + 1);
  assert.deepEqual(
    history.map((m) => m.seq),
    seqs,
    'the history is 1..N with no hole',
  );
  assert.equal(new Set(history.map((m) => m.text)).size, total, 'each message stored once');
  const bySeq = new Map(history.map((m) => [m.seq, m.text]));
  for (const [text, seq] of burst.acked) assert.equal(bySeq.get(seq), text, `the ack of ${text} names it`);
  const deadline = Date.now() + 30_000;
  while ([...burst.seen.values()].some((s) => s.length < total) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  for (const [who, got] of burst.seen) assert.deepEqual(got, seqs, `${who} got 1..${total} once, in order`);
}
