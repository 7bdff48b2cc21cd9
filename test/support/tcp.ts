// A client of the TCP door for tests: one JSON frame per line, read as they come.
import { type Socket, connect } from 'node:net';

export interface LineClient {
  readonly socket: Socket;
  readonly frames: any[];
  send(line: string | object): void;
  next(match: (f: any) => boolean, timeoutMs?: number): Promise<any>;
  ended(): Promise<void>;
}

/** A TCP connection to the door on `port`, reading one JSON frame per line. */
export async function connectTcp(port: number, host = '127.0.0.1'): Promise<LineClient> {
  const socket = connect(port, host);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const frames: any[] = [];
  let buffer = '';
  const waiters = new Set<() => void>();
  let ended = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      frames.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
    for (const w of [...waiters]) w();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    ended = true;
    for (const w of [...waiters]) w();
  });
  return {
    socket,
    frames,
    send: (line) => socket.write(typeof line === 'string' ? line : `${JSON.stringify(line)}\n`),
    next: (match, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const f = frames.find(match);
          if (f) {
            done();
            resolve(f);
          } else if (ended) {
            done();
            reject(new Error(`closed; frames: ${JSON.stringify(frames.slice(-5))}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching frame; last: ${JSON.stringify(frames.slice(-5))}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    ended: () =>
      new Promise((resolve) => {
        if (ended) resolve();
        else socket.once('close', () => resolve());
      }),
  };
}
