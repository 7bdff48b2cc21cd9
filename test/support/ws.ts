// A WebSocket test client: records every frame it receives and waits for the ones a test
// expects, with a deadline so a missing frame fails the test instead of hanging it.
import { WebSocket } from 'ws';

export type Frame = Record<string, any> & { type: string };

export interface FrameClient {
  readonly ws: WebSocket;
  readonly frames: Frame[];
  send(frame: unknown): void;
  /** The first frame (at or after `from`, an index into frames) matching `match`. */
  next(match: (f: Frame) => boolean, timeoutMs?: number, from?: number): Promise<Frame>;
  /** Resolves with the close code and reason. */
  closed(): Promise<{ code: number; reason: string }>;
  close(): void;
}

export function wsUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/v1/ws`;
}

export async function connectWs(
  httpUrl: string,
  options: { token?: string; headers?: Record<string, string>; auth?: boolean } = {},
): Promise<FrameClient> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token && options.auth !== false) headers['authorization'] = `Bearer ${options.token}`;
  const ws = new WebSocket(wsUrl(httpUrl), { headers });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  let closeInfo: { code: number; reason: string } | undefined;
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)));
    for (const w of [...waiters]) w();
  });
  ws.on('close', (code, reason) => {
    closeInfo = { code, reason: String(reason) };
    for (const w of [...waiters]) w();
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.once('error', reject);
  });
  const client: FrameClient = {
    ws,
    frames,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next: (match, timeoutMs = 5000, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          for (let i = from; i < frames.length; i++) {
            if (match(frames[i]!)) {
              cleanup();
              resolve(frames[i]!);
              return true;
            }
          }
          if (closeInfo) {
            cleanup();
            reject(
              new Error(
                `closed (${closeInfo.code} ${closeInfo.reason}) before the frame came; got ${JSON.stringify(frames.slice(-5))}`,
              ),
            );
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`no matching frame within ${timeoutMs} ms; last: ${JSON.stringify(frames.slice(-5))}`),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        const waiter = () => {
          check();
        };
        if (!check()) waiters.add(waiter);
      }),
    closed: () =>
      new Promise((resolve) => {
        if (closeInfo) return resolve(closeInfo);
        ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }));
      }),
    close: () => ws.close(),
  };
  return client;
}
