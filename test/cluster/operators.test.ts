// The operator commands on a PostgreSQL deployment: `user add`, `user admin` and `token` run
// against the database every node shares (never a local data directory), so an admin made from
// the command line signs in on every node, a token the command prints is good on every node, and
// with the deployment's Redis a right taken away ends the user's connections on every node at once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { run } from '../support/cli.js';
import { Api, startServer } from '../support/server.js';
import { REDIS_URL, postgresMissing, redisMissing, throwawayDatabase } from '../support/services.js';
import { connectWs } from '../support/ws.js';

const skip = (await postgresMissing()) ?? (await redisMissing());

describe('operator commands on PostgreSQL', { skip }, () => {
  const database = throwawayDatabase('operators');

  test('an admin added with the command line signs in on every node, its printed token works on every node, and a revoke reaches every node at once', async (t) => {
    const url = database();
    const redisChannel = `porthouse:test:${randomUUID()}`;
    const nodes = [
      await startServer(t, { postgres: url, redis: REDIS_URL, redisChannel }),
      await startServer(t, { postgres: url, redis: REDIS_URL, redisChannel }),
    ];
    // Run from an empty directory: nothing may be written to a local ./data.
    const cwd = mkdtempSync(join(tmpdir(), 'porthouse-ops-'));
    t.after(() => rmSync(cwd, { recursive: true, force: true }));
    const store = ['--postgres', url];
    const added = await run(
      ['user', 'add', 'root', '--admin', ...store, '--scrypt-cost', '10'],
      'a long admin password\n',
      {},
      cwd,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /user root added \(admin\)/);
    for (const node of nodes) {
      const login = await new Api(node.url).post('/v1/tokens', {
        name: 'root',
        password: 'a long admin password',
      });
      assert.equal(login.status, 201, `signs in on ${node.url}`);
      const me = await new Api(node.url, login.body.token).get('/v1/me');
      assert.deepEqual(me.body, { name: 'root', admin: true });
    }
    const printed = await run(['token', 'root', ...store], undefined, {}, cwd);
    assert.equal(printed.code, 0, printed.stderr);
    const token = printed.stdout.trim();
    for (const node of nodes) assert.equal((await new Api(node.url, token).get('/v1/sockets')).status, 200);
    assert.equal(existsSync(join(cwd, 'data')), false, 'no local data directory was made');

    // A live connection on the second node ends the moment the right is taken away.
    const ws = await connectWs(nodes[1]!.url, { token });
    t.after(() => ws.close());
    const revoked = await run(
      ['user', 'admin', 'root', '--revoke', ...store, '--redis', REDIS_URL, '--redis-channel', redisChannel],
      undefined,
      {},
      cwd,
    );
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /user root now not an admin/);
    const closed = await ws.closed();
    assert.equal(closed.code, 4001, 'rights_changed');
    for (const node of nodes) assert.equal((await new Api(node.url, token).get('/v1/sockets')).status, 403);

    const unknown = await run(['token', 'nobody', ...store], undefined, {}, cwd);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /user_not_found/);
    const unreachable = await run(
      ['token', 'root', '--postgres', 'postgres://127.0.0.1:1/none'],
      undefined,
      {},
      cwd,
    );
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.stderr, /--postgres: cannot open the database/);
  });
});
