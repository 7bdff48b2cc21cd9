// The commands that speak the real-time doors: `listen` (ws, tcp, udp or sse, resuming after
// drops), `send --via ws|tcp|udp`, and `ping --via ws|tcp|udp` (round-trip times).
import { WebSocket } from 'ws';
import { type Frame, RealtimeClient, type WebSocketLike } from '../client/realtime.js';
import { followSse } from '../client/sse.js';
import { RestClient } from '../client/rest.js';
import { tcpSocket } from '../client/tcp-socket.js';
import { UdpClient } from '../client/udp.js';
import type { Message } from '../core/types.js';
import { UsageError, intFlag, signedIn } from './args.js';
import { oneLine } from './one-line.js';
import { print } from './print.js';

const wsUrlOf = (server: string) => `${server.replace(/\/+$/, '').replace(/^http/, 'ws')}/v1/ws`;
const connectWs = (url: string) => new WebSocket(url) as unknown as WebSocketLike;

/** The UDP door's URL: --udp, PORTHOUSE_UDP, or the server's host on port 7070. */
function udpUrl(values: Record<string, unknown>, server: string): string {
  const udp =
    (values['udp'] as string | undefined) ??
    process.env['PORTHOUSE_UDP'] ??
    `${new URL(server).hostname}:7070`;
  return udp.includes('://') ? udp : `udp://${udp}`;
}

/** The frame doors a command can use: where they are, and how to open one. */
export function frameDoor(via: string, values: Record<string, unknown>, server: string) {
  if (via === 'ws') return { url: wsUrlOf(server), connect: connectWs };
  if (via === 'tcp') {
    const tcp =
      (values['tcp'] as string | undefined) ??
      process.env['PORTHOUSE_TCP'] ??
      `tcp://${new URL(server).hostname}:7070`;
    return { url: tcp.includes('://') ? tcp : `tcp://${tcp}`, connect: tcpSocket };
  }
  throw new UsageError(`--via ${via} is not available here; use ws or tcp`);
}

/** One line per message: `#seq author: text`, or the frame as JSON with --json. */
function printer(json: boolean) {
  return (frame: Frame) => {
    if (json) process.stdout.write(`${JSON.stringify(frame)}\n`);
    else if (frame.type === 'msg')
      process.stdout.write(`#${frame.seq} ${frame.author}: ${oneLine(frame.text ?? '')}\n`);
    else if (frame.type === 'del') process.stdout.write(`#${frame.seq} (deleted)\n`);
    else if (frame.type === 'edit')
      process.stdout.write(`#${frame.seq} ${frame.author} (edited): ${oneLine(frame.text ?? '')}\n`);
  };
}

/** Runs until SIGINT/SIGTERM, or until --count messages were printed. */
export async function listen(room: string, values: Record<string, unknown>): Promise<void> {
  const { server, token } = signedIn(values);
  const via = (values['via'] as string | undefined) ?? 'ws';
  const since = intFlag(values, 'since');
  const count = intFlag(values, 'count');
  const print = printer(values['json'] === true);
  const status = (s: string, detail?: string) =>
    process.stderr.write(`[${via}] ${s}${detail ? ` (${detail})` : ''}\n`);
  let seen = 0;
  let stop: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onFrame = (frame: Frame) => {
    if (frame.type === 'error') process.stderr.write(`[${via}] error ${frame.code}: ${frame.message}\n`);
    print(frame);
    if (frame.type === 'msg' && count !== undefined && ++seen >= count) stop();
  };
  let close: () => void;
  if (via === 'ws' || via === 'tcp') {
    const door = frameDoor(via, values, server);
    const client = new RealtimeClient({
      url: door.url,
      token,
      connect: door.connect,
      onFrame,
      onStatus: status,
    });
    client.subscribe(room, since);
    client.ready().catch((err: Error) => {
      process.stderr.write(`porthouse: ${err.message}\n`);
      process.exitCode = 1;
      stop();
    });
    close = () => client.close();
  } else if (via === 'udp') {
    close = listenUdp(room, since, values, server, token, onFrame, stop);
  } else if (via === 'sse') {
    const follower = followSse({
      server,
      room,
      token,
      since,
      onStatus: (s, detail) => {
        status(s, detail);
        if (s === 'closed' && detail) process.exitCode = 1;
      },
      onEvent: (e) => onFrame(JSON.parse(e.data) as Frame),
    });
    void follower.done.then(() => stop());
    close = () => follower.close();
  } else throw new UsageError(`--via ${via}: listen speaks ws, tcp, udp or sse`);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await finished;
  close();
}

/**
 * Follow a room over UDP. Datagrams can be lost or reordered: messages are printed in seq order,
 * a gap is reported and filled over REST, and a truncated message is fetched whole.
 */
function listenUdp(
  room: string,
  since: number | undefined,
  values: Record<string, unknown>,
  server: string,
  token: string,
  onFrame: (frame: Frame) => void,
  stop: () => void,
): () => void {
  const rest = new RestClient({ server, token });
  let last = since;
  let chain = Promise.resolve();
  const show = (m: Message) => {
    last = m.seq;
    onFrame({ ...m, type: 'msg' });
  };
  const handle = async (frame: Frame) => {
    if (frame.type !== 'msg' || frame.room !== room) {
      onFrame(frame);
      return;
    }
    const seq = frame.seq;
    if (last !== undefined && seq <= last) return; // a duplicate, or already fetched
    if (last !== undefined && seq > last + 1) {
      process.stderr.write(`[udp] gap: #${last + 1}–#${seq - 1} missed; fetching over REST\n`);
      for (;;) {
        const page = await rest.history(room, { after: last, limit: 200 });
        for (const m of page) if (m.seq < seq) show(m);
        if (page.length < 200 || (page.at(-1)?.seq ?? seq) >= seq - 1) break;
      }
    }
    const { type: _type, truncated, ...message } = frame;
    if (truncated) show(await rest.request<Message>('GET', `/v1/rooms/${room}/messages/${seq}`));
    else show(message);
  };
  const client = new UdpClient({
    url: udpUrl(values, server),
    token,
    onFrame: (frame) => {
      chain = chain
        .then(() => handle(frame))
        .catch((err: Error) => {
          process.stderr.write(`[udp] ${err.message}\n`);
        });
    },
  });
  client
    .subscribe(room, since)
    .then((head) => {
      if (last === undefined) last = head;
      process.stderr.write('[udp] subscribed\n');
    })
    .catch((err: Error) => {
      process.stderr.write(`porthouse: ${(err as { code?: string }).code ?? 'error'}: ${err.message}\n`);
      process.exitCode = 1;
      stop();
    });
  return () => client.close();
}

/** `send --via ws|tcp|udp`: publish through a frame door and wait for the ack. */
export async function sendFrame(room: string, text: string, values: Record<string, unknown>): Promise<void> {
  const { server, token } = signedIn(values);
  if (values['via'] === 'udp') {
    const client = new UdpClient({ url: udpUrl(values, server), token });
    try {
      // Retried until acked (bounded); the same ref each time, so it is stored once.
      const ack = await client.pub(room, text, { tries: 5, timeoutMs: 1000 });
      print(values, ack, `sent to ${ack.room} as #${ack.seq}`);
    } finally {
      client.close();
    }
    return;
  }
  const door = frameDoor(values['via'] as string, values, server);
  const client = new RealtimeClient({ url: door.url, token, connect: door.connect, pubTimeout: 10_000 });
  try {
    await client.ready();
    const ack = await client.publish(room, text);
    print(values, ack, `sent to ${ack.room} as #${ack.seq}`);
  } finally {
    client.close();
  }
}

export async function ping(values: Record<string, unknown>): Promise<void> {
  const { server, token } = signedIn(values);
  const via = (values['via'] as string | undefined) ?? 'ws';
  const count = intFlag(values, 'count') ?? 10;
  if (count < 1) throw new UsageError('--count must be at least 1');
  if (via === 'udp') return pingUdp(values, server, token, count);
  const door = frameDoor(via, values, server);
  const client = new RealtimeClient({ url: door.url, token, connect: door.connect });
  try {
    await client.ready();
    const rtts: number[] = [];
    for (let i = 0; i < count; i++) rtts.push(await client.ping());
    rtts.sort((a, b) => a - b);
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const p99 = rtts[Math.min(rtts.length - 1, Math.ceil(rtts.length * 0.99) - 1)]!;
    const ms = (x: number) => x.toFixed(3);
    process.stdout.write(
      values['json']
        ? `${JSON.stringify({ via, count, min: rtts[0], avg, p99, max: rtts[rtts.length - 1] })}\n`
        : `${count} pings over ${via}: min ${ms(rtts[0]!)} ms, avg ${ms(avg)} ms, p99 ${ms(p99)} ms, max ${ms(rtts[rtts.length - 1]!)} ms\n`,
    );
  } finally {
    client.close();
  }
}

/** UDP pings: one datagram each, a lost one counts as loss (no retry). */
async function pingUdp(
  values: Record<string, unknown>,
  server: string,
  token: string,
  count: number,
): Promise<void> {
  const client = new UdpClient({ url: udpUrl(values, server), token });
  const rtts: number[] = [];
  let lost = 0;
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      try {
        await client.request({ type: 'ping' }, 1, 1000);
        rtts.push(performance.now() - started);
      } catch (err) {
        if ((err as { code?: string }).code !== 'timeout') throw err;
        lost++;
      }
    }
  } finally {
    client.close();
  }
  rtts.sort((a, b) => a - b);
  const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(3));
  const avg = rtts.length > 0 ? rtts.reduce((a, b) => a + b, 0) / rtts.length : undefined;
  const p99 = rtts[Math.min(rtts.length - 1, Math.ceil(rtts.length * 0.99) - 1)];
  const loss = (100 * lost) / count;
  process.stdout.write(
    values['json']
      ? `${JSON.stringify({ via: 'udp', count, min: rtts[0], avg, p99, max: rtts.at(-1), lossPercent: loss })}\n`
      : `${count} pings over udp: min ${ms(rtts[0])} ms, avg ${ms(avg)} ms, p99 ${ms(p99)} ms, max ${ms(rtts.at(-1))} ms, loss ${loss.toFixed(1)} %\n`,
  );
  if (lost === count) process.exitCode = 1;
}
