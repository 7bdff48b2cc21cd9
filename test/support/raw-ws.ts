// A hand-made WebSocket client on a bare TCP socket, for what a polite library will not do:
// stop reading, send frames the server must refuse, or vanish without a close.
import { randomBytes } from 'node:crypto';
import { type Socket, connect } from 'node:net';

/** A client→server frame: always masked (RFC 6455 §5.3). */
export function clientFrame(payload: string | Buffer, opcode = 0x1): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = randomBytes(4);
  const len = data.length;
  const header = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = Buffer.alloc(header + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65_536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  mask.copy(out, header);
  for (let i = 0; i < len; i++) out[header + 4 + i] = data[i]! ^ mask[i % 4]!;
  return out;
}

/** Open a raw socket, complete the upgrade to /v1/ws, and return the socket (still flowing). */
export function rawWs(httpUrl: string, token?: string): Promise<Socket> {
  const { hostname, port } = new URL(httpUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      else resolve(socket);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(
      [
        'GET /v1/ws HTTP/1.1',
        `Host: ${hostname}:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        ...(token ? [`Authorization: Bearer ${token}`] : []),
        '',
        '',
      ].join('\r\n'),
    );
  });
}

export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/**
 * Read the server's frames off a raw socket (server frames are never masked) as they complete.
 * `closeCode` resolves with the close frame's code as soon as it arrives (undefined if the
 * socket ended without one); `afterClose` counts the frames that came after it.
 */
export function readServerFrames(socket: Socket): {
  readonly frames: ServerFrame[];
  readonly texts: () => any[];
  readonly closeCode: Promise<number | undefined>;
  readonly afterClose: () => number;
} {
  const frames: ServerFrame[] = [];
  let buffer = Buffer.alloc(0);
  let closeAt = -1;
  let done: (code: number | undefined) => void = () => {};
  const closeCode = new Promise<number | undefined>((r) => {
    done = r;
  });
  socket.on('data', (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    for (;;) {
      if (buffer.length < 2) return;
      let len = buffer[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buffer.length < 4) return;
        len = buffer.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buffer.length < 10) return;
        len = Number(buffer.readBigUInt64BE(2));
        at = 10;
      }
      if (buffer.length < at + len) return;
      const frame = { opcode: buffer[0]! & 0x0f, payload: buffer.subarray(at, at + len) };
      frames.push(frame);
      buffer = buffer.subarray(at + len);
      if (frame.opcode === 0x8 && closeAt < 0) {
        closeAt = frames.length - 1;
        done(frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined);
      }
    }
  });
  socket.on('close', () => done(undefined));
  return {
    frames,
    texts: () => frames.filter((f) => f.opcode === 0x1).map((f) => JSON.parse(String(f.payload))),
    closeCode,
    afterClose: () => (closeAt < 0 ? 0 : frames.length - closeAt - 1),
  };
}

/** Send `sub {room}` on a raw socket read by `read`, and wait until its `subbed` has come. */
export async function rawSubscribe(
  socket: Socket,
  read: ReturnType<typeof readServerFrames>,
  room: string,
): Promise<void> {
  socket.write(clientFrame(JSON.stringify({ type: 'sub', room })));
  while (!read.texts().some((f) => f.type === 'subbed')) await new Promise((r) => setTimeout(r, 10));
}
