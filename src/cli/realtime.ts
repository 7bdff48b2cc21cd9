// Client commands over the real-time doors: `listen` (ws, tcp or sse, resuming after drops),
// `send --via ws|tcp`, and `ping --via ws|tcp` (round-trip times).
import { WebSocket } from 'ws';
import { type Frame, RealtimeClient, type WebSocketLike } from '../client/realtime.js';
import { followSse } from '../client/sse.js';
import { tcpSocket } from '../client/tcp-socket.js';
import { UsageError, clientContext } from './args.js';

const wsUrlOf = (server: string) => `${server.replace(/\/+$/, '').replace(/^http/, 'ws')}/v1/ws`;
const connectWs = (url: string) => new WebSocket(url) as unknown as WebSocketLike;

/** The frame doors a command can use: where they are, and how to open one. */
function frameDoor(via: string, values: Record<string, unknown>, server: string) {
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

function needToken(values: Record<string, unknown>) {
  const ctx = clientContext(values, process.env);
  if (!ctx.token)
    throw new UsageError(
      'a token is needed: --token T or PORTHOUSE_TOKEN (get one with `porthouse token NAME`)',
    );
  return { server: ctx.server, token: ctx.token };
}

const intFlag = (values: Record<string, unknown>, name: string): number | undefined => {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number ≥ 0`);
  return n;
};

/** One line per message: `#seq author: text`, or the frame as JSON with --json. */
function printer(json: boolean) {
  return (frame: Frame) => {
    if (json) process.stdout.write(`${JSON.stringify(frame)}\n`);
    else if (frame.type === 'msg')
      process.stdout.write(
        `#${frame['seq']} ${frame['author']}: ${String(frame['text']).replace(/\n/g, '\n    ')}\n`,
      );
    else if (frame.type === 'del') process.stdout.write(`#${frame['seq']} (deleted)\n`);
    else if (frame.type === 'edit')
      process.stdout.write(`#${frame['seq']} ${frame['author']} (edited): ${frame['text']}\n`);
  };
}

/** Runs until SIGINT/SIGTERM, or until --count messages were printed. */
export async function listen(room: string, values: Record<string, unknown>): Promise<void> {
  const { server, token } = needToken(values);
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
    if (frame.type === 'error')
      process.stderr.write(`[${via}] error ${frame['code']}: ${frame['message']}\n`);
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
  } else throw new UsageError(`--via ${via}: listen speaks ws, tcp or sse`);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await finished;
  close();
}

/** `send --via ws|tcp`: publish through a frame door and wait for the ack. */
export async function sendFrame(room: string, text: string, values: Record<string, unknown>): Promise<void> {
  const { server, token } = needToken(values);
  const door = frameDoor(values['via'] as string, values, server);
  const client = new RealtimeClient({ url: door.url, token, connect: door.connect, pubTimeout: 10_000 });
  try {
    await client.ready();
    const ack = await client.publish(room, text);
    process.stdout.write(
      values['json'] ? `${JSON.stringify(ack)}\n` : `sent to ${ack.room} as #${ack.seq}\n`,
    );
  } finally {
    client.close();
  }
}

export async function ping(values: Record<string, unknown>): Promise<void> {
  const { server, token } = needToken(values);
  const via = (values['via'] as string | undefined) ?? 'ws';
  const count = intFlag(values, 'count') ?? 10;
  if (count < 1) throw new UsageError('--count must be at least 1');
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
