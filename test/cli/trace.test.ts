// `porthouse trace ROOM SEQ`: a message's journey as a timeline, or as JSON for scripts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../support/cli.js';
import { startServer, userApi } from '../support/server.js';
import { connectWs } from '../support/ws.js';

test('prints where a message came in, its bytes on the wire, each stage and its fan-out', async (t) => {
  const server = await startServer(t);
  const ada = await userApi(server, 'ada');
  await ada.post('/v1/rooms', { name: 'r' });
  const ws = await connectWs(server.url, { token: ada.token! });
  t.after(() => ws.close());
  ws.send({ type: 'sub', room: 'r' });
  await ws.next((f) => f.type === 'subbed');
  await ada.post('/v1/rooms/r/messages', { text: 'traced' });
  await ws.next((f) => f.type === 'msg');
  await new Promise((r) => setTimeout(r, 50));
  const env = { PORTHOUSE_TOKEN: ada.token! };
  const shown = await run(['trace', 'r', '1', '--server', server.url], undefined, env);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /received by the http door: \d+ bytes on the wire \(HTTP request line/);
  for (const stage of ['received', 'decoded', 'stored', 'durable', 'published', 'acked'])
    assert.match(shown.stdout, new RegExp(`ms  ${stage}$`, 'm'), stage);
  assert.match(shown.stdout, /fan-out ws: 1 recipient, \d+ bytes each, written \d/);
  const json = await run(['trace', 'r', '1', '--server', server.url, '--json'], undefined, env);
  assert.equal(JSON.parse(json.stdout).door, 'http');
  const missing = await run(['trace', 'r', '7', '--server', server.url], undefined, env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /message_not_found/);
  assert.equal((await run(['trace', 'r', 'x', '--server', server.url], undefined, env)).code, 2);
});
