// The cluster when parts of it die mid-burst. A node killed with SIGKILL: its clients reconnect
// to another node with since, nothing acknowledged is lost, nothing is stored twice, and its
// users leave presence within the lease. Redis stopped and started again: every node keeps
// serving its own clients meanwhile and, once Redis is back, nothing acknowledged is missing
// anywhere.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { freePort } from '../../proof/lib/crash-run.js';
import { type Served, serve } from '../support/cli.js';
import { type ClusterNode, checkBurst, startBurst } from '../support/cluster.js';
import { Api, PASSWORD, startServer, tempDir } from '../support/server.js';
import { REDIS_URL, postgresMissing, redisMissing, throwawayDatabase } from '../support/services.js';
import { connectWs } from '../support/ws.js';

/** Both tests' traffic: one subscriber of each door per node, 6 publishers × 250 messages. */
const BURST = { subsPerNode: 1, publishers: 6, perPublisher: 250 } as const;
const TOTAL = BURST.publishers * BURST.perPublisher;

const skip = (await postgresMissing()) ?? (await redisMissing());
const LEASE = 1000;

async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function login(api: Api, name: string): Promise<string> {
  await api.post('/v1/users', { name, password: PASSWORD });
  const t = await api.post('/v1/tokens', { name, password: PASSWORD });
  assert.equal(t.status, 201);
  return t.body.token as string;
}

/** A private redis-server of the test's own, on a free port, so stopping it hurts nobody else. */
async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const { Redis } = await import('ioredis');
  await until(async () => {
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {}); // refused until it is up: that is what we wait for
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }, 'redis-server to answer');
  return proc;
}

describe('a cluster losing parts mid-burst', { skip }, () => {
  const database = throwawayDatabase('failure');

  test('a node killed with SIGKILL: its clients resume on another node with nothing acked missing or doubled, and its users leave presence within the lease', async (t) => {
    const channel = `porthouse:test:${randomUUID()}`;
    const served: Served[] = [];
    t.after(() => {
      for (const s of served) s.proc.kill('SIGKILL');
    });
    const flags = ['--postgres', database(), '--redis', REDIS_URL, '--redis-channel', channel];
    const timing = ['--presence-lease', String(LEASE), '--presence-interval', '50'];
    for (let i = 0; i < 3; i++) served.push(await serve(tempDir(), [...flags, ...timing]));
    const nodes: ClusterNode[] = [];
    for (const s of served) {
      await until(() => s.lines.some((l) => / tcp listening on /.test(l)), 'the TCP door');
      const tcp = /porthouse tcp listening on (\S+)/.exec(
        s.lines.find((l) => / tcp listening on /.test(l))!,
      )![1]!;
      nodes.push({ url: s.url, tcp, alive: true });
    }
    const api0 = new Api(nodes[0]!.url);
    const token = await login(api0, 'ada');
    const ada = api0.as(token);
    assert.equal((await ada.post('/v1/rooms', { name: 'burst' })).status, 201);
    // zed is online on node 2 only, and nowhere else once it dies.
    const zed = await connectWs(nodes[2]!.url, { token: await login(api0, 'zed') });
    zed.send({ type: 'sub', room: 'burst' });
    await zed.next((f) => f.type === 'subbed');

    const burst = await startBurst(nodes, token, 'burst', BURST);
    t.after(() => burst.close());
    const watcher = burst.frames.get('ws-sub-node0-0')!;
    const online = (at = 0) =>
      watcher.flatMap((e) => (e.frame.type === 'presence' && e.at >= at ? [e.frame.online] : []));
    await until(() => online().some((o) => o.includes('zed')), 'node 0 sees zed online on node 2');

    let killedAt = 0;
    await burst.publish((n) => {
      if (killedAt === 0 && n >= TOTAL / 3) {
        killedAt = Date.now();
        nodes[2]!.alive = false;
        served[2]!.proc.kill('SIGKILL');
      }
    });
    assert.ok(killedAt > 0, 'node 2 died mid-burst');
    assert.equal(await served[2]!.exited, 'SIGKILL');
    await checkBurst(burst, ada, 'burst', TOTAL);

    await until(() => online(killedAt).some((o) => !o.includes('zed')), 'zed leaves presence', LEASE * 10);
    const gone = watcher.find(
      (e) => e.at >= killedAt && e.frame.type === 'presence' && !e.frame.online.includes('zed'),
    )!;
    t.diagnostic(`zed left presence ${gone.at - killedAt} ms after node 2 died (lease ${LEASE} ms)`);
    // The lease and a quarter is the promise; two more seconds are slack for a busy machine.
    assert.ok(gone.at - killedAt <= LEASE * 1.25 + 2000, `within the lease (${gone.at - killedAt} ms)`);
    assert.deepEqual(gone.frame.type === 'presence' && gone.frame.online, ['ada']);
    zed.close();
  });

  test('Redis stopped and started mid-burst: nodes keep serving, report not ready, and afterwards nothing acked is missing anywhere', async (t) => {
    const port = await freePort();
    let redis = await startRedis(port);
    t.after(() => redis.kill('SIGKILL'));
    const redisUrl = `redis://127.0.0.1:${port}`;
    const servers = [];
    for (let i = 0; i < 3; i++)
      servers.push(
        await startServer(t, { postgres: database(), redis: redisUrl, redisChannel: 'porthouse:events' }),
      );
    const nodes: ClusterNode[] = servers.map((s) => ({
      url: s.url,
      tcp: `tcp://127.0.0.1:${s.addresses().find((a) => a.door === 'tcp')!.port}`,
      alive: true,
    }));
    const api0 = new Api(nodes[0]!.url);
    const token = await login(api0, 'bea');
    const bea = api0.as(token);
    assert.equal((await bea.post('/v1/rooms', { name: 'weather' })).status, 201);

    const burst = await startBurst(nodes, token, 'weather', BURST);
    t.after(() => burst.close());
    let stopped: Promise<void> | undefined;
    await burst.publish((n) => {
      if (stopped || n < TOTAL / 4) return;
      stopped = (async () => {
        redis.kill('SIGKILL');
        await until(
          async () => (await new Api(nodes[1]!.url).get('/readyz')).status === 503,
          'a node reports not ready',
        );
        await new Promise((r) => setTimeout(r, 300));
        redis = await startRedis(port);
      })();
    });
    assert.ok(stopped, 'Redis went away mid-burst');
    await stopped;
    await until(async () => {
      for (const n of nodes) if ((await new Api(n.url).get('/readyz')).status !== 200) return false;
      return true;
    }, 'every node ready again');
    await checkBurst(burst, bea, 'weather', TOTAL);
  });
});
