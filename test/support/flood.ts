// Publishing until a reader that has stopped reading is cut off as a slow consumer: first the
// kernel's socket buffers fill (several MB on loopback), only then the server's own limit.
import assert from 'node:assert/strict';
import type { TestServer } from './server.js';

/** Posts 4 KB messages to `room` as ada, 50 at a time, until `door` has cut one reader off. */
export async function floodUntilCut(
  server: TestServer,
  door: 'ws' | 'tcp' | 'sse',
  room: string,
  atLeast = 0,
): Promise<number> {
  const text = 'x'.repeat(4000);
  const actor = { name: 'ada', admin: false };
  const cut = async () =>
    (await server.metrics.slowConsumers.get()).values.find((v) => v.labels.door === door)?.value ?? 0;
  let sent = 0;
  while (sent < atLeast || (await cut()) === 0) {
    assert.ok(sent < 10_000, 'the stalled connection was never cut off');
    await Promise.all(
      Array.from({ length: 50 }, () => server.services.messages.post(actor, room, text, 'http')),
    );
    sent += 50;
  }
  return sent;
}

/** 1, 2, …, n: every seq of a room that was sent n messages, in order. */
export const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
