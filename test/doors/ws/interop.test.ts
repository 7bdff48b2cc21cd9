// The WebSocket door with a client that is not `ws`: undici's WHATWG WebSocket, the same
// implementation as Node's global WebSocket, used the way a browser page would use it (no
// headers, auth frame, reconnect with since).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket as WhatwgWebSocket } from 'undici';
import { RealtimeClient, type WebSocketLike } from '../../../src/client/realtime.js';
import { startServer, userApi } from '../../support/server.js';
import { wsUrl } from '../../support/ws.js';

test('a WHATWG WebSocket (undici) authenticates by frame, receives in order, and resumes with since after a drop', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const sockets: WhatwgWebSocket[] = [];
  const seqs: number[] = [];
  const client = new RealtimeClient({
    url: wsUrl(server.url),
    token: ada.token!,
    connect: (url) => {
      const ws = new WhatwgWebSocket(url);
      sockets.push(ws);
      return ws as unknown as WebSocketLike;
    },
    backoffMin: 20,
    backoffMax: 50,
    onFrame: (f) => {
      if (f.type === 'msg') seqs.push(f['seq'] as number);
    },
  });
  t.after(() => client.close());
  client.subscribe('r', 0);
  await client.ready();
  const waitFor = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (seqs.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  await ada.post('/v1/rooms/r/messages', { text: 'one' });
  assert.deepEqual((await client.publish('r', 'two')).seq, 2);
  await waitFor(2);
  // Drop the connection under the client's feet; it reconnects and resumes after seq 2.
  for (const c of server.ws.connections()) assert.equal(c.user, 'ada');
  sockets[0]!.close(4000, 'test drop');
  await ada.post('/v1/rooms/r/messages', { text: 'three, while away' });
  await client.ready();
  await ada.post('/v1/rooms/r/messages', { text: 'four' });
  await waitFor(4);
  assert.deepEqual(seqs, [1, 2, 3, 4]);
  assert.ok(sockets.length >= 2, 'it reconnected');
});
