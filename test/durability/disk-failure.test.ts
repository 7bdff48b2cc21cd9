// A failing disk under a real node, through the real system calls (an LD_PRELOAD shim,
// test/support/failing-disk.c). A failed flush (EIO), in both durable SQLite modes: the write is
// refused, nothing is acknowledged or shown as durable again until a restart, the node says so
// once, and what was acknowledged before is there after the restart. A full disk (ENOSPC): the
// write is refused, and the node carries on once there is room.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Served, serve } from '../support/cli.js';
import { Api, PASSWORD, tempDir } from '../support/server.js';

const SHIM_SOURCE = fileURLToPath(new URL('../../../test/support/failing-disk.c', import.meta.url));
let shim = '';
const built = tempDir('porthouse-shim-');
before(() => {
  shim = join(built, 'failing-disk.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, SHIM_SOURCE, '-ldl']);
});
after(() => rmSync(built, { recursive: true, force: true }));

/** A data directory, and its clean-up: every node started on it is killed, then it is removed. */
const nodes = new Set<Served>();
const own = (node: Served) => {
  nodes.add(node);
  return node;
};
function dataDir() {
  // The real path: the shim compares it with what /proc/self/fd links resolve to.
  const dir = realpathSync(tempDir('porthouse-disk-'));
  const cleanUp = async () => {
    for (const node of nodes) await node.kill('SIGKILL');
    nodes.clear();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, cleanUp };
}

/** The environment of a node whose disk fails while a flag file is in `dir`. */
const failingDisk = (dir: string) => ({ LD_PRELOAD: shim, FAILING_DISK_DIR: dir });

async function signedIn(url: string): Promise<Api> {
  const api = new Api(url);
  await api.post('/v1/users', { name: 'ada', password: PASSWORD });
  const login = await api.post('/v1/tokens', { name: 'ada', password: PASSWORD });
  assert.equal(login.status, 201);
  return api.as(login.body.token);
}

const code = (res: { body: unknown }) => (res.body as { code?: string }).code;

for (const mode of ['fdatasync', 'full'] as const)
  test(`--sqlite-synchronous ${mode}: a failed flush refuses its write and every later one with unavailable, for good; after a restart what was acknowledged is there`, async (t) => {
    const { dir, cleanUp } = dataDir();
    t.after(cleanUp);
    const failing = own(await serve(dir, ['--sqlite-synchronous', mode], failingDisk(dir)));
    const ada = await signedIn(failing.url);
    assert.equal((await ada.post('/v1/rooms', { name: 'r' })).status, 201);
    assert.equal((await ada.post('/v1/rooms/r/messages', { text: 'kept' })).status, 201);

    writeFileSync(join(dir, 'fail-fsync'), ''); // the disk starts failing its flushes
    const refused = await ada.post('/v1/rooms/r/messages', { text: 'refused' }, { 'idempotency-key': 'k2' });
    assert.deepEqual([refused.status, code(refused)], [503, 'unavailable'], 'not acknowledged');
    rmSync(join(dir, 'fail-fsync')); // it answers again, but is not trusted again
    const later = await ada.post('/v1/rooms/r/messages', { text: 'later' });
    assert.deepEqual([later.status, code(later)], [503, 'unavailable']);
    const read = await ada.get('/v1/rooms/r/messages');
    assert.deepEqual([read.status, code(read)], [503, 'unavailable'], 'nothing shown as durable');
    assert.equal((await fetch(`${failing.url}/readyz`)).status, 503);
    assert.equal((await fetch(`${failing.url}/healthz`)).status, 200);
    const metrics = await (await fetch(`${failing.url}/metrics`)).text();
    assert.match(metrics, /^porthouse_store_disk_failed 1$/m);
    const said = failing.stderr
      .split('\n')
      .filter((l) => l.includes('the disk failed a write or a sync'))
      .map((l) => JSON.parse(l) as { level: number; err: { message: string } });
    assert.equal(said.length, 1, `said once: ${failing.stderr}`);
    assert.equal(said[0]!.level, 50);
    assert.match(said[0]!.err.message, /I\/O error|EIO/i, "with the disk's own error");

    await failing.kill('SIGKILL');
    const restarted = own(await serve(dir, ['--sqlite-synchronous', mode]));
    const again = await signedIn(restarted.url);
    const texts = async () =>
      ((await again.get('/v1/rooms/r/messages')).body as { text: string }[]).map((m) => m.text);
    const before = await texts();
    assert.equal(before[0], 'kept', 'the acknowledged message survived');
    assert.ok(!before.includes('later'), 'a write refused after the failure was never written');
    // The refused post's outcome was unknown to its client: its retry lands it exactly once.
    const retry = await again.post('/v1/rooms/r/messages', { text: 'refused' }, { 'idempotency-key': 'k2' });
    assert.ok([200, 201].includes(retry.status), `retry: ${retry.status}`);
    assert.deepEqual(
      (await texts()).filter((text) => text === 'refused'),
      ['refused'],
    );
  });

test('a full disk refuses the write with unavailable and nothing stored; once there is room again the node carries on', async (t) => {
  const { dir, cleanUp } = dataDir();
  t.after(cleanUp);
  const node = own(await serve(dir, [], failingDisk(dir)));
  const ada = await signedIn(node.url);
  assert.equal((await ada.post('/v1/rooms', { name: 'r' })).status, 201);
  assert.equal((await ada.post('/v1/rooms/r/messages', { text: 'kept' })).status, 201);

  writeFileSync(join(dir, 'fail-write'), '');
  const full = await ada.post('/v1/rooms/r/messages', { text: 'no room' });
  assert.deepEqual([full.status, code(full)], [503, 'unavailable']);
  assert.match((full.body as { detail: string }).detail, /disk is full/);
  rmSync(join(dir, 'fail-write'));

  const next = await ada.post('/v1/rooms/r/messages', { text: 'room again' });
  assert.equal(next.status, 201, 'not a broken disk: SQLite rolled the full one back cleanly');
  assert.deepEqual(
    ((await ada.get('/v1/rooms/r/messages')).body as { seq: number; text: string }[]).map((m) => [
      m.seq,
      m.text,
    ]),
    [
      [1, 'kept'],
      [2, 'room again'],
    ],
    'nothing of the refused write, and no gap',
  );
  assert.equal((await fetch(`${node.url}/readyz`)).status, 200);
  assert.match(await (await fetch(`${node.url}/metrics`)).text(), /^porthouse_store_disk_failed 0$/m);
  assert.doesNotMatch(node.stderr, /"level":50/, 'no error logged: a full disk is not a bug');
});
