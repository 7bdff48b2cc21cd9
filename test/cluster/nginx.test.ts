// The shipped nginx configuration (deploy/nginx/porthouse.conf), run for real in front of three
// nodes on one PostgreSQL database and one Redis. Only the node addresses, the listen ports, the
// log and temp paths, the worker user and the module path are substituted; everything else is the
// file operators copy. Through nginx a client registers, logs in and posts over REST, and
// publishes over WebSocket, TCP (stream) and UDP (stream); subscribers through nginx on
// WebSocket, SSE, TCP and UDP, and subscribers connected straight to each of the three nodes, all
// get the same four messages in order, so whichever node nginx picked, the message crossed the
// cluster.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { OPTIONS } from '../../src/config.js';
import { type Nginx, type RunningNginx, findNginx, nginxMissing, runNginx } from '../support/nginx.js';
import { Api, PASSWORD, type TestServer, startServer, tempDir } from '../support/server.js';
import { REDIS_URL, postgresMissing, redisMissing, throwawayDatabase } from '../support/services.js';
import { openSse } from '../support/sse.js';
import { type Frame, connectWs } from '../support/ws.js';

const CONF_PATH = fileURLToPath(new URL('../../../deploy/nginx/porthouse.conf', import.meta.url));
const conf = readFileSync(CONF_PATH, 'utf8');

// ---- the file itself: its timeouts agree with the server's ----

/** An nginx time ("90", "500ms", "10m", "1h") in milliseconds. */
function ms(value: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  assert.ok(m, `not an nginx time: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}

/** The body of the one block whose header matches `header` (no nested blocks in it). */
function block(text: string, header: RegExp): string {
  const all = [...text.matchAll(new RegExp(`${header.source}\\s*\\{([^{}]*)\\}`, 'g'))];
  assert.equal(all.length, 1, `porthouse.conf: exactly one block ${header.source}`);
  return all[0]![1]!;
}

function directive(body: string, name: string): string {
  const m = new RegExp(`^\\s*${name}\\s+([^;\\s]+)\\s*;`, 'm').exec(body);
  assert.ok(m, `porthouse.conf: ${name} missing in ${body}`);
  return m[1]!;
}

test('porthouse.conf: it caps connections per client address on every door it proxies', () => {
  assert.match(conf, /limit_conn_zone \$binary_remote_addr zone=porthouse_http_per_address/);
  assert.match(conf, /^\s*limit_conn porthouse_http_per_address \d+;/m);
  const tcpServer =
    [...conf.matchAll(/server\s*\{([^{}]*proxy_pass\s+porthouse_tcp;[^{}]*)\}/g)][0]?.[1] ?? '';
  assert.match(tcpServer, /limit_conn porthouse_tcp_per_address \d+;/);
});

test('porthouse.conf: its timeouts outlast the heartbeats and idle limits the nodes allow', () => {
  const ws = block(conf, /location\s*=\s*\/v1\/ws/);
  assert.ok(ms(directive(ws, 'proxy_read_timeout')) > OPTIONS.wsPingInterval.max, 'WebSocket read timeout');
  const sse = block(conf, /location\s*~\s*\S*events\S*/);
  assert.ok(ms(directive(sse, 'proxy_read_timeout')) > OPTIONS.sseHeartbeat.max, 'SSE read timeout');
  assert.equal(directive(sse, 'proxy_buffering'), 'off', 'SSE unbuffered');
  const upstream = block(conf, /upstream\s+porthouse_http/);
  assert.ok(
    ms(directive(upstream, 'keepalive_timeout')) < OPTIONS.keepAliveTimeout.default,
    'nginx drops idle upstream connections before the node does',
  );
  const [tcp, udp] = [
    ...conf.matchAll(/server\s*\{([^{}]*proxy_pass\s+porthouse_(?:tcp|udp);[^{}]*)\}/g),
  ].map((m) => m[1]!);
  assert.ok(tcp && udp && /porthouse_tcp/.test(tcp) && /porthouse_udp/.test(udp), 'stream servers');
  assert.ok(
    ms(directive(tcp, 'proxy_timeout')) > OPTIONS.tcpIdleTimeout.default,
    'TCP idle: the node ends it',
  );
  assert.ok(ms(directive(udp, 'proxy_timeout')) > OPTIONS.udpLease.default, 'UDP session outlives a lease');
});

// ---- rendering it for this machine ----

interface Ports {
  readonly http: number;
  readonly tcp: number;
  readonly udp: number;
}

/** Replace exactly one match of `re` in `text`, failing when the file no longer has it. */
function replaceOne(text: string, re: RegExp, to: (...groups: string[]) => string, what: string): string {
  const matches = text.match(new RegExp(re.source, `${re.flags.replace('g', '')}g`)) ?? [];
  assert.equal(matches.length, 1, `porthouse.conf: expected exactly one ${what}, found ${matches.length}`);
  return text.replace(re, (...m: string[]) => to(...m));
}

function render(nginx: Nginx, dir: string, listen: Ports, nodes: Ports[]): string {
  let out = conf;
  for (const door of ['http', 'tcp', 'udp'] as const) {
    out = replaceOne(
      out,
      new RegExp(`upstream\\s+porthouse_${door}\\s*\\{[^{}]*\\}`),
      (upstream) => {
        let i = 0;
        const rendered = upstream.replace(
          /^(\s*)server\s+[^\s;]+/gm,
          (_m, indent: string) => `${indent}server 127.0.0.1:${nodes[i++]![door]}`,
        );
        assert.equal(i, 3, `porthouse.conf: upstream porthouse_${door} lists three nodes`);
        return rendered;
      },
      `upstream porthouse_${door}`,
    );
  }
  out = replaceOne(
    out,
    /^(\s*)listen\s+8080((?:\s+[^\s;]+)*);/m,
    (_m, indent, rest) => `${indent}listen 127.0.0.1:${listen.http}${rest};`,
    'listen 8080',
  );
  out = replaceOne(
    out,
    /^(\s*)listen\s+7070((?:\s+(?!udp\b)[^\s;]+)*);/m,
    (_m, indent, rest) => `${indent}listen 127.0.0.1:${listen.tcp}${rest};`,
    'listen 7070 (TCP)',
  );
  out = replaceOne(
    out,
    /^(\s*)listen\s+7070(\s+udp\b[^;]*);/m,
    (_m, indent, rest) => `${indent}listen 127.0.0.1:${listen.udp}${rest};`,
    'listen 7070 udp',
  );
  out = replaceOne(
    out,
    /^load_module\s+\S*ngx_stream_module\.so;/m,
    () => (nginx.streamModule ? `load_module ${nginx.streamModule};` : ''),
    'load_module of the stream module',
  );
  // As root the workers drop to the file's user (www-data), when this machine has it.
  const user = /^user\s+(\S+?);/m.exec(out)?.[1];
  const root = process.getuid?.() === 0;
  const known = user !== undefined && readFileSync('/etc/passwd', 'utf8').includes(`\n${user}:`);
  out = replaceOne(out, /^user\s+[^;]+;/m, (m) => (root ? (known ? m : 'user nobody;') : ''), 'user');
  assert.ok(out.includes('/var/log/nginx/'), 'porthouse.conf logs under /var/log/nginx/');
  out = out.replaceAll('/var/log/nginx/', `${dir}/`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `    ${k}_temp_path ${join(dir, k)};\n`)
    .join('');
  return replaceOne(out, /^http\s*\{\n/m, (m) => `${m}${temp}`, 'http block');
}

/** A port free for both TCP and UDP on 127.0.0.1 (like 7070, one number for both doors). */
async function freePort(udpToo: boolean): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    if (!udpToo) return port;
    const socket = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (ok) return port;
  }
}

// ---- clients over the stream ports ----

interface FrameStream {
  readonly frames: Frame[];
  send(frame: object): void;
  next(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  close(): void;
}

function frameStream(write: (bytes: string) => void, close: () => void) {
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  const stream: FrameStream = {
    frames,
    send: (frame) => write(JSON.stringify(frame)),
    next: (match, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const f = frames.find(match);
          if (!f) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(f);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`no matching frame within ${timeoutMs} ms; last: ${JSON.stringify(frames.slice(-5))}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close,
  };
  const push = (f: Frame) => {
    frames.push(f);
    for (const w of [...waiters]) w();
  };
  return { stream, push };
}

async function tcpClient(port: number): Promise<FrameStream> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const { stream, push } = frameStream(
    (line) => socket.write(`${line}\n`),
    () => socket.destroy(),
  );
  let buffer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
  });
  return stream;
}

async function udpClient(port: number): Promise<FrameStream> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { stream, push } = frameStream(
    (datagram) => socket.send(datagram, port, '127.0.0.1'),
    () => socket.close(),
  );
  socket.on('message', (msg) => push(JSON.parse(String(msg))));
  return stream;
}

// ---- the cluster behind it ----

/** After-hooks run in reverse: clients close, then nginx stops, then the nodes it proxies to. */
function lastInFirstOut(t: { after(fn: () => unknown): void }) {
  const hooks: (() => unknown)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const hook of hooks.reverse())
      await Promise.resolve()
        .then(hook)
        .catch((e) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  });
  return { after: (fn: () => unknown) => void hooks.push(fn) };
}

const nginx = await findNginx();
const skip = (await nginxMissing()) ?? (await postgresMissing()) ?? (await redisMissing());

describe('three nodes behind the shipped nginx configuration', { skip }, () => {
  const database = throwawayDatabase('nginx');

  test('REST, WebSocket, SSE, TCP and UDP through nginx reach the cluster, and subscribers on every node see the same messages', async (t) => {
    assert.ok(typeof nginx !== 'string');
    const cleanup = lastInFirstOut(t);
    const redisChannel = `porthouse:test:${randomUUID()}`;
    const nodes: TestServer[] = [];
    for (let i = 0; i < 3; i++)
      nodes.push(
        await startServer(cleanup, {
          postgres: database(),
          redis: REDIS_URL,
          redisChannel,
          trustProxy: true,
          maxConnectionsPerAddress: 0,
        }),
      );
    const nodePorts = nodes.map((n) => {
      const port = (door: string) => n.addresses().find((a) => a.door === door)!.port;
      return { http: port('http'), tcp: port('tcp'), udp: port('udp') };
    });
    const dir = tempDir('porthouse-nginx-');
    chmodSync(dir, 0o755); // the workers (www-data) write their temp files in here
    cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
    const confFile = join(dir, 'nginx.conf');
    let listen: Ports;
    let proxy: RunningNginx;
    for (let attempt = 1; ; attempt++) {
      // Free a moment ago; another test may have taken one since: then try other ports.
      const stream = await freePort(true);
      listen = { http: await freePort(false), tcp: stream, udp: stream };
      writeFileSync(confFile, render(nginx, dir, listen, nodePorts));
      try {
        proxy = await runNginx(cleanup, nginx, dir, confFile, [listen.http, listen.tcp]);
        break;
      } catch (err) {
        if (attempt === 3 || !/Address already in use/.test(String(err))) throw err;
      }
    }
    const base = `http://127.0.0.1:${listen.http}`;
    const closers = { push: (close: () => void) => cleanup.after(close) };

    // REST through nginx: register, log in, create a room.
    const anonymous = new Api(base);
    assert.equal((await anonymous.post('/v1/users', { name: 'ada', password: PASSWORD })).status, 201);
    const login = await anonymous.post('/v1/tokens', { name: 'ada', password: PASSWORD });
    assert.equal(login.status, 201);
    const token: string = login.body.token;
    const ada = anonymous.as(token);
    assert.equal((await ada.post('/v1/rooms', { name: 'lobby' })).status, 201);

    // Subscribers through nginx. The WebSocket carries a browser's Origin: the node accepts it
    // only if nginx passed the Host on with its port.
    const ws = await connectWs(base, { token, headers: { origin: base } });
    closers.push(() => ws.close());
    ws.send({ type: 'sub', room: 'lobby', since: 0 });
    await ws.next((f) => f.type === 'subbed');

    const sse = await openSse(`${base}/v1/rooms/lobby/events`, { authorization: `Bearer ${token}` });
    closers.push(() => sse.close());
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /^text\/event-stream/);
    await sse.next((e) => e.event === 'subbed');

    const tcp = await tcpClient(listen.tcp);
    closers.push(() => tcp.close());
    tcp.send({ type: 'auth', token });
    await tcp.next((f) => f.type === 'ready');
    tcp.send({ type: 'sub', room: 'lobby', since: 0 });
    await tcp.next((f) => f.type === 'subbed');

    const udp = await udpClient(listen.udp);
    closers.push(() => udp.close());
    const sub = { type: 'sub', room: 'lobby', since: 0, token };
    udp.send(sub);
    const { cookie } = await udp.next((f) => f.type === 'challenge');
    udp.send({ ...sub, cookie });
    await udp.next((f) => f.type === 'subbed');

    // Subscribers straight on each node: at least two of them are not the node nginx gives a
    // publish to, so what they get came through Redis.
    const direct = await Promise.all(nodes.map((n) => connectWs(n.url, { token })));
    for (const d of direct) {
      closers.push(() => d.close());
      d.send({ type: 'sub', room: 'lobby', since: 0 });
      await d.next((f) => f.type === 'subbed');
    }

    // Publish through nginx on four doors, one after the other.
    const posted = await ada.post('/v1/rooms/lobby/messages', { text: 'over REST' });
    assert.equal(posted.status, 201);
    assert.equal(posted.body.seq, 1);
    ws.send({ type: 'pub', room: 'lobby', text: 'over WebSocket', ref: 'w' });
    assert.equal((await ws.next((f) => f.type === 'ack' && f.ref === 'w')).seq, 2);
    tcp.send({ type: 'pub', room: 'lobby', text: 'over TCP', ref: 't' });
    assert.equal((await tcp.next((f) => f.type === 'ack' && f.ref === 't')).seq, 3);
    const sender = await udpClient(listen.udp);
    closers.push(() => sender.close());
    sender.send({ type: 'pub', room: 'lobby', text: 'over UDP', ref: 'u', token });
    assert.equal((await sender.next((f) => f.type === 'ack' && f.ref === 'u')).seq, 4);

    const expected = [
      [1, 'http', 'over REST'],
      [2, 'ws', 'over WebSocket'],
      [3, 'tcp', 'over TCP'],
      [4, 'udp', 'over UDP'],
    ];
    const shape = (msgs: Frame[]) => msgs.map((m) => [m.seq, m.via, m.text]);
    const last = (frames: Frame[]) => frames.some((f) => f.type === 'msg' && f.seq === 4);
    const subscribers: [string, { frames: Frame[]; next: FrameStream['next'] }][] = [
      ['WebSocket through nginx', ws],
      ['TCP through nginx', tcp],
      ['UDP through nginx', udp],
      ...direct.map((d, i): [string, typeof d] => [`WebSocket on node ${i + 1}`, d]),
    ];
    for (const [who, s] of subscribers) {
      await s.next(() => last(s.frames));
      assert.deepEqual(shape(s.frames.filter((f) => f.type === 'msg')), expected, who);
    }
    // SSE streams through nginx: each event arrives while the stream stays open. (nginx 1.22
    // passes each complete chunk of a chunked response on even when buffering, so this does not
    // catch a missing `proxy_buffering off`; the check of the file above does.)
    await sse.next((e) => e.event === 'msg' && e.data.seq === 4);
    assert.deepEqual(
      shape(sse.events.filter((e) => e.event === 'msg').map((e) => e.data)),
      expected,
      'SSE through nginx',
    );
    assert.deepEqual(
      sse.events.filter((e) => e.event === 'msg').map((e) => e.id),
      ['1', '2', '3', '4'],
    );

    const history = await ada.get('/v1/rooms/lobby/messages');
    assert.equal(history.status, 200);
    assert.deepEqual(shape(history.body), expected, 'history through nginx');
    assert.doesNotMatch(proxy.log(), /\[(emerg|alert|crit|error)\]/, 'nginx logged no errors');
  });
});
