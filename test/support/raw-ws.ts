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
