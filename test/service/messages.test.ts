// The one path every message takes: stored, acknowledged, then published — and a message once
// stored is published whatever happens to its sender's ack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, userApi } from '../support/server.js';
import { connectWs } from '../support/ws.js';

test('a stored message is published even when acknowledging its sender fails', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const c = await connectWs(server.url, { token: ada.token! });
  t.after(() => c.close());
  c.send({ type: 'sub', room: 'r' });
  await c.next((f) => f.type === 'subbed');
  const order: string[] = [];
  await assert.rejects(
    server.services.messages.post({ name: 'ada', admin: false }, 'r', 'stored', 'http', {
      acknowledge: (m) => {
        order.push(`ack ${m.seq}`);
        throw new Error('the sender is gone');
      },
    }),
    /the sender is gone/,
  );
  assert.deepEqual(order, ['ack 1']);
  assert.equal((await c.next((f) => f.type === 'msg')).text, 'stored');
});
