// The cost of each door, side by side, for learners: the same 100-byte message sent through
// REST, WebSocket, TCP, UDP and IRC to one node with one subscriber on every real-time door.
// Per sending door: its bytes on the wire (framing included, as the node's journey counts them
// and as this client wrote them), the round trip of a ping on that door (p50/p99), and the
// node's CPU per message; per receiving door: the bytes each recipient was written. And what
// each door guarantees.
//
//   npm run bench:layers -- [--messages 2000] [--pings 500]
//
// Writes .bench/layers-<timestamp>.json. Loopback only; stops by itself.
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { wsFrameBytes } from '../src/doors/wire-bytes.js';
import { abort, makeDataDir, startPorthouse, stopChildren } from './lib/children.js';
import { setUpPorthouse } from './lib/fanout-runs.js';
import { cpuTimes, machineInfo } from './lib/machine.js';

const { values: flags } = parseArgs({
  options: { messages: { type: 'string', default: '2000' }, pings: { type: 'string', default: '500' } },
  strict: true,
});
const MESSAGES = Number(flags.messages);
const PINGS = Number(flags.pings);
const TEXT = 'x'.repeat(100);

type Door = 'http' | 'ws' | 'tcp' | 'udp' | 'irc';
const DOORS: Door[] = ['http', 'ws', 'tcp', 'udp', 'irc'];

/** What each door promises, as docs/layers.md explains it. */
const GUARANTEES: Record<
  Door,
  { ordered: string; acknowledged: string; resumable: string; lossVisible: string }
> = {
  http: {
    ordered: 'per request',
    acknowledged: '201 after durable',
    resumable: 'history by seq',
    lossVisible: 'n/a (request/response)',
  },
  ws: {
    ordered: 'yes (TCP)',
    acknowledged: 'ack frame after durable',
    resumable: 'sub since',
    lossVisible: 'seq gaps cannot happen',
  },
  tcp: {
    ordered: 'yes (TCP)',
    acknowledged: 'ack line after durable',
    resumable: 'sub since',
    lossVisible: 'seq gaps cannot happen',
  },
  udp: {
    ordered: 'no (datagrams)',
    acknowledged: 'ack datagram after durable; retry with ref',
    resumable: 'REST by seq',
    lossVisible: 'yes: a missing seq',
  },
  irc: {
    ordered: 'yes (TCP)',
    acknowledged: 'echo-message after durable',
    resumable: 'CHATHISTORY by msgid',
    lossVisible: 'seq in msgid',
  },
};

/** The frames this benchmark reads back (WebSocket, UDP). */
interface Frame {
  readonly type: string;
  readonly ref?: string;
  readonly seq?: number;
  readonly cookie?: string;
}

/** The parts of a journey (GET …/trace) this benchmark reports. */
interface Trace {
  readonly wireBytes: number;
  readonly framing: string;
  readonly stages: unknown;
  readonly fanout: readonly { readonly door: string; readonly bytesPerRecipient: number }[];
}

interface Row {
  readonly door: Door;
  readonly senderBytes: number;
  readonly clientBytes: number;
  readonly framing: string;
  readonly perRecipient: Record<string, number>;
  readonly rttP50: number;
  readonly rttP99: number;
  readonly cpuMicrosPerMessage: number;
  readonly stages: unknown;
  readonly ordered: string;
  readonly acknowledged: string;
  readonly resumable: string;
  readonly lossVisible: string;
}

interface Line {
  readonly socket: Socket;
  next(match: (line: string) => boolean): Promise<string>;
  write(text: string): void;
}

/** A line-oriented TCP client (the TCP and IRC doors), `\n` or `\r\n`. */
async function lines(port: number): Promise<Line> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setEncoding('utf8');
  let buffer = '';
  const waiting: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  socket.on('data', (d: string) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      const i = waiting.findIndex((w) => w.match(line));
      if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line);
    }
  });
  return {
    socket,
    next: (match) => new Promise((resolve) => waiting.push({ match, resolve })),
    write: (text) => socket.write(text),
  };
}

const percentile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

async function main(): Promise<number> {
  setTimeout(() => void abort('took longer than 10 minutes', 3), 600_000).unref();
  const machine = machineInfo();
  process.stdout.write(
    `porthouse layers benchmark\ndate: ${machine.date}\nnode: ${machine.node}\ncpu: ${machine.cpu} (${machine.cores} cores)\ncode: ${machine.commit}\n`,
  );
  const child = await startPorthouse('porthouse', makeDataDir(), [
    '--trace-messages',
    String(MESSAGES + 100),
  ]);
  const token = await setUpPorthouse(child);
  const out = child.stdout();
  const portOf = (door: string) =>
    Number(new RegExp(`porthouse ${door} listening on \\w+://\\S+:(\\d+)`).exec(out)?.[1]);
  const ports = {
    http: Number(new URL(child.url).port),
    tcp: portOf('tcp'),
    udp: portOf('udp'),
    irc: portOf('irc'),
  };
  const auth = { authorization: `Bearer ${token}` };

  // One subscriber on each real-time door, so every message is fanned out once per door.
  const wsUrl = `${child.url.replace(/^http/, 'ws')}/v1/ws`;
  const ws = new WebSocket(wsUrl, { headers: auth, perMessageDeflate: false });
  await new Promise((r) => ws.once('open', r));
  const wsNext = (match: (f: Frame) => boolean) =>
    new Promise<Frame>((resolve) => {
      const on = (d: Buffer) => {
        const f = JSON.parse(String(d)) as Frame;
        if (match(f)) {
          ws.off('message', on);
          resolve(f);
        }
      };
      ws.on('message', on);
    });
  ws.send(JSON.stringify({ type: 'sub', room: 'bench' }));
  await wsNext((f) => f.type === 'subbed');
  const tcp = await lines(ports.tcp);
  tcp.write(
    `${JSON.stringify({ type: 'auth', token })}\n${JSON.stringify({ type: 'sub', room: 'bench' })}\n`,
  );
  await tcp.next((l) => l.startsWith('{"type":"subbed"'));
  const irc = await lines(ports.irc);
  irc.write(
    `CAP LS 302\r\nCAP REQ :echo-message message-tags server-time labeled-response\r\nPASS ${token}\r\nNICK bench\r\nUSER bench 0 * :bench\r\nCAP END\r\nJOIN #bench\r\n`,
  );
  await irc.next((l) => / 366 /.test(l));
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const udpWaiting: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  udp.on('message', (m) => {
    const f = JSON.parse(String(m)) as Frame;
    const i = udpWaiting.findIndex((w) => w.match(f));
    if (i >= 0) udpWaiting.splice(i, 1)[0]!.resolve(f);
  });
  const udpNext = (match: (f: Frame) => boolean) =>
    new Promise<Frame>((resolve) => udpWaiting.push({ match, resolve }));
  const udpSend = (frame: object) => udp.send(JSON.stringify({ ...frame, token }), ports.udp, '127.0.0.1');
  // The address check: sub, answer the challenge with its cookie.
  udpSend({ type: 'sub', room: 'bench' });
  const challenge = await udpNext((f) => f.type === 'challenge');
  udpSend({ type: 'sub', room: 'bench', cookie: challenge.cookie });
  await udpNext((f) => f.type === 'subbed');
  const sse = await fetch(`${child.url}/v1/rooms/bench/events`, {
    headers: { ...auth, accept: 'text/event-stream' },
  });
  const sseReader = sse.body!.getReader();
  void (async () => {
    for (;;) if ((await sseReader.read()).done) return;
  })();

  /** Send one message on `door`; resolves once the node acknowledged it, with its seq and the bytes this client wrote. */
  let ref = 0;
  const send = async (door: Door): Promise<{ seq: number; bytes: number }> => {
    const r = `r${++ref}`;
    if (door === 'http') {
      const body = JSON.stringify({ text: TEXT });
      const res = await fetch(`${child.url}/v1/rooms/bench/messages`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body,
      });
      const m = (await res.json()) as { seq: number };
      return { seq: m.seq, bytes: 0 };
    }
    if (door === 'ws') {
      const frame = JSON.stringify({ type: 'pub', room: 'bench', text: TEXT, ref: r });
      const acked = wsNext((f) => f.type === 'ack' && f.ref === r);
      ws.send(frame);
      return { seq: (await acked).seq ?? Number.NaN, bytes: wsFrameBytes(Buffer.byteLength(frame), true) };
    }
    if (door === 'tcp') {
      const line = `${JSON.stringify({ type: 'pub', room: 'bench', text: TEXT, ref: r })}\n`;
      const acked = tcp.next((l) => l.includes('"type":"ack"') && l.includes(`"ref":"${r}"`));
      tcp.write(line);
      return { seq: JSON.parse(await acked).seq, bytes: Buffer.byteLength(line) };
    }
    if (door === 'udp') {
      const datagram = JSON.stringify({ type: 'pub', room: 'bench', text: TEXT, ref: r, token });
      const acked = udpNext((f) => f.type === 'ack' && f.ref === r);
      udp.send(datagram, ports.udp, '127.0.0.1');
      return { seq: (await acked).seq ?? Number.NaN, bytes: Buffer.byteLength(datagram) + 8 + 20 };
    }
    const line = `@label=${r} PRIVMSG #bench :${TEXT}\r\n`;
    const echo = irc.next((l) => l.includes(`label=${r}`));
    irc.write(line);
    const msgid = /msgid=bench:(\d+)/.exec(await echo)?.[1];
    return { seq: Number(msgid), bytes: Buffer.byteLength(line) };
  };

  /** One ping on `door`: ms from sending to its answer. */
  const ping = async (door: Door): Promise<number> => {
    const t0 = performance.now();
    const r = `p${++ref}`;
    if (door === 'http') await (await fetch(`${child.url}/healthz`)).arrayBuffer();
    else if (door === 'ws') {
      const pong = wsNext((f) => f.type === 'pong' && f.ref === r);
      ws.send(JSON.stringify({ type: 'ping', ref: r }));
      await pong;
    } else if (door === 'tcp') {
      const pong = tcp.next((l) => l.includes('"pong"') && l.includes(r));
      tcp.write(`${JSON.stringify({ type: 'ping', ref: r })}\n`);
      await pong;
    } else if (door === 'udp') {
      const pong = udpNext((f) => f.type === 'pong' && f.ref === r);
      udpSend({ type: 'ping', ref: r });
      await pong;
    } else {
      const pong = irc.next((l) => l.includes(' PONG ') && l.endsWith(r));
      irc.write(`PING ${r}\r\n`);
      await pong;
    }
    return performance.now() - t0;
  };

  const rows: Row[] = [];
  for (const door of DOORS) {
    process.stdout.write(`${door}: `);
    // Warm-up, then the journey of one message.
    for (let i = 0; i < 50; i++) await send(door);
    const one = await send(door);
    await new Promise((r) => setTimeout(r, 100));
    const trace = (await (
      await fetch(`${child.url}/v1/rooms/bench/messages/${one.seq}/trace`, { headers: auth })
    ).json()) as Trace;
    const rtts: number[] = [];
    for (let i = 0; i < PINGS; i++) rtts.push(await ping(door));
    // CPU per message: MESSAGES sent one after another (each acknowledged before the next).
    const c0 = cpuTimes(child.pid);
    for (let i = 0; i < MESSAGES; i++) await send(door);
    const c1 = cpuTimes(child.pid);
    const cpuMicros = ((c1.user + c1.system - c0.user - c0.system) * 1e6) / MESSAGES;
    const fanout = Object.fromEntries(trace.fanout.map((f) => [f.door, f.bytesPerRecipient]));
    const row: Row = {
      door,
      senderBytes: trace.wireBytes,
      clientBytes: one.bytes || trace.wireBytes,
      framing: trace.framing,
      perRecipient: fanout,
      rttP50: percentile(rtts, 0.5),
      rttP99: percentile(rtts, 0.99),
      cpuMicrosPerMessage: cpuMicros,
      stages: trace.stages,
      ...GUARANTEES[door],
    };
    rows.push(row);
    process.stdout.write(
      `${trace.wireBytes} bytes on the wire, ping p50 ${row.rttP50.toFixed(3)} ms p99 ${row.rttP99.toFixed(3)} ms, ${cpuMicros.toFixed(1)} µs CPU per message\n`,
    );
  }
  ws.terminate();
  tcp.socket.destroy();
  irc.socket.destroy();
  udp.close();
  await sseReader.cancel();
  await stopChildren();

  const recipients = ['ws', 'sse', 'tcp', 'udp', 'irc'];
  const table = (r: string[][]) => r.map((x) => `| ${x.join(' | ')} |`).join('\n');
  const head = [
    'sent through',
    'bytes on the wire',
    'ping p50 / p99 ms',
    'server CPU µs per message',
    'ordered',
    'acknowledged',
    'resumable',
    'loss visible',
  ];
  process.stdout.write(
    `\n${table([
      head,
      head.map(() => '---'),
      ...rows.map((r) => [
        r.door,
        String(r.senderBytes),
        `${r.rttP50.toFixed(3)} / ${r.rttP99.toFixed(3)}`,
        r.cpuMicrosPerMessage.toFixed(1),
        r.ordered,
        r.acknowledged,
        r.resumable,
        r.lossVisible,
      ]),
    ])}\n\nbytes each recipient was written (the same 100-byte text):\n\n${table([
      ['sent through', ...recipients],
      ['---', ...recipients.map(() => '---')],
      ...rows.map((r) => [r.door, ...recipients.map((d) => String(r.perRecipient[d] ?? '–'))]),
    ])}\n`,
  );
  mkdirSync('.bench', { recursive: true });
  const file = join('.bench', `layers-${machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine, settings: { MESSAGES, PINGS }, rows }, null, 2));
  process.stdout.write(`\nwrote ${file}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) =>
    void abort(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1),
);
