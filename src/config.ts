// Every option of a node, in one table: its default, its flag, its PORTHOUSE_* variable and why
// it exists. Sources merge as defaults < --config file < environment < flags, are validated once
// at start-up, and the result is frozen. docs/config.md is generated from this table.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Kind = 'string' | 'int' | 'bool' | 'enum';

interface OptionSpec {
  readonly kind: Kind;
  readonly default: string | number | boolean | undefined;
  readonly doc: string;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Group heading in docs/config.md. */
  readonly group: string;
}

const opt = <S extends OptionSpec>(s: S) => s;

export const OPTIONS = {
  host: opt({ kind: 'string', default: '127.0.0.1', group: 'Network', doc: 'Address every door binds to.' }),
  port: opt({
    kind: 'int',
    default: 8080,
    min: 0,
    max: 65535,
    group: 'Network',
    doc: 'HTTP port (REST, WebSocket, SSE, web client). 0 picks a free port.',
  }),
  tcpPort: opt({
    kind: 'int',
    default: 7070,
    min: 0,
    max: 65535,
    group: 'Network',
    doc: 'TCP door port (one JSON frame per line). The same number as the UDP door on purpose: (TCP, 7070) and (UDP, 7070) are different sockets. 0 picks a free port.',
  }),
  udpPort: opt({
    kind: 'int',
    default: 7070,
    min: 0,
    max: 65535,
    group: 'Network',
    doc: 'UDP door port (one JSON frame per datagram), the same number as TCP on purpose. 0 picks a free port.',
  }),
  udpMaxDatagram: opt({
    kind: 'int',
    default: 1200,
    min: 576,
    max: 65_507,
    group: 'Network',
    doc: 'Largest datagram the UDP door sends. An event larger than this goes out as `msg` with `truncated: true` and no text; fetch it over REST. 1200 fits any path MTU without fragmentation.',
  }),
  udpLease: opt({
    kind: 'int',
    default: 60_000,
    min: 1000,
    max: 3_600_000,
    group: 'Network',
    doc: 'Milliseconds a UDP subscription lives unless renewed by `sub` or `ping` from its address.',
  }),
  udpPerSecond: opt({
    kind: 'int',
    default: 50,
    min: 1,
    max: 1_000_000,
    group: 'Rate limits',
    doc: 'Datagrams per second accepted from one source address (burst: twice as many); the rest are dropped and counted.',
  }),
  tcpMaxLine: opt({
    kind: 'int',
    default: 65_536,
    min: 256,
    max: 16_777_216,
    group: 'Network',
    doc: 'Longest TCP line (bytes, without the newline); a longer one gets `error frame_too_large` and the connection is closed.',
  }),
  tcpIdleTimeout: opt({
    kind: 'int',
    default: 300_000,
    min: 1000,
    max: 86_400_000,
    group: 'Network',
    doc: 'Milliseconds a TCP connection may send nothing before it is closed with `idle_timeout`; clients keep it open with `ping`. TCP keepalive probes find vanished peers sooner.',
  }),
  web: opt({
    kind: 'string',
    default: 'bundled',
    group: 'Network',
    doc: 'The browser client served at `/`: `bundled` (built into dist/web by `npm ci`), the path of a directory holding your own build, or `off`.',
  }),
  tcpTlsCert: opt({
    kind: 'string',
    default: undefined,
    group: 'Network',
    doc: 'PEM certificate file: the TCP door speaks TLS (with tcpTlsKey).',
  }),
  tcpTlsKey: opt({
    kind: 'string',
    default: undefined,
    group: 'Network',
    doc: 'PEM private key file for tcpTlsCert.',
  }),
  ircPort: opt({
    kind: 'int',
    default: 6667,
    min: -1,
    max: 65535,
    group: 'IRC',
    doc: 'IRC door port (RFC 1459/2812 lines with IRCv3 tags): `#room` is room `room`. 0 turns the door off; -1 picks a free port (`--irc-port=-1`).',
  }),
  ircTlsPort: opt({
    kind: 'int',
    default: 6697,
    min: -1,
    max: 65535,
    group: 'IRC',
    doc: "IRC over TLS, with the node's TLS pair (tcpTlsCert, tcpTlsKey); without one it stays closed. 0 turns it off; -1 picks a free port.",
  }),
  ircServerName: opt({
    kind: 'string',
    default: 'porthouse',
    group: 'IRC',
    doc: "The server's name in IRC prefixes and numerics, and the host part of every user's mask (`nick!nick@NAME`).",
  }),
  ircMotd: opt({
    kind: 'string',
    default: undefined,
    group: 'IRC',
    doc: 'A text file whose lines are the message of the day; without one clients get 422 (no MOTD).',
  }),
  ircRegistrationTimeout: opt({
    kind: 'int',
    default: 30_000,
    min: 1000,
    max: 600_000,
    group: 'IRC',
    doc: 'Milliseconds an IRC client has to register (CAP, NICK, USER, SASL or PASS) before it is closed.',
  }),
  ircPingInterval: opt({
    kind: 'int',
    default: 120_000,
    min: 1000,
    max: 86_400_000,
    group: 'IRC',
    doc: 'Milliseconds of silence after which the server PINGs an IRC client; as long again without a word closes it (`Ping timeout`).',
  }),
  ircLinesPerSecond: opt({
    kind: 'int',
    default: 20,
    min: 1,
    max: 1_000_000,
    group: 'Rate limits',
    doc: 'Sustained lines per second from one IRC client (any command; PRIVMSG is limited by framePubPerSecond as well). Past the burst the client is closed with `Excess Flood`.',
  }),
  ircLinesBurst: opt({
    kind: 'int',
    default: 100,
    min: 1,
    max: 1_000_000,
    group: 'Rate limits',
    doc: 'Lines an IRC client may send at once (a client joining its channels on connect) before ircLinesPerSecond applies.',
  }),
  ircHistoryLimit: opt({
    kind: 'int',
    default: 100,
    min: 1,
    max: 10_000,
    group: 'IRC',
    doc: 'Most messages one CHATHISTORY request returns (ISUPPORT `CHATHISTORY`).',
  }),
  data: opt({
    kind: 'string',
    default: './data',
    group: 'Storage',
    doc: 'Directory of the embedded SQLite database (created if missing).',
  }),
  postgres: opt({
    kind: 'string',
    default: undefined,
    group: 'Storage',
    doc: 'PostgreSQL URL (`postgres://user@host:5432/db`). When set, messages, rooms and users live there instead of SQLite under `--data`, and several nodes may share it. Migrations run on start.',
  }),
  redis: opt({
    kind: 'string',
    default: undefined,
    group: 'Storage',
    doc: 'Redis URL (`redis://host:6379`). When set, stored events reach the hubs of every node sharing it (pub/sub); without it each node only hears its own.',
  }),
  redisChannel: opt({
    kind: 'string',
    default: 'porthouse:events',
    group: 'Storage',
    doc: "The name the nodes of one deployment share on Redis: deployment-wide events travel on this channel, a room's on `<name>:room:<room>` (sharded pub/sub), and every key starts `<name>:`.",
  }),
  redisRoomLinger: opt({
    kind: 'int',
    default: 30_000,
    min: 0,
    max: 3_600_000,
    group: 'Storage',
    doc: "With Redis: how long (ms) a node still listens to a room's channel after its last subscriber here left, so a client that reconnects finds it open.",
  }),
  traceMessages: opt({
    kind: 'int',
    default: 1000,
    min: 0,
    max: 1_000_000,
    group: 'Network',
    doc: "Journeys kept per room (GET /v1/rooms/{room}/messages/{seq}/trace): the newest messages' stages on this node, their bytes on the wire and their fan-out per door. 0 keeps none.",
  }),
  traceRooms: opt({
    kind: 'int',
    default: 100,
    min: 0,
    max: 100_000,
    group: 'Network',
    doc: 'Rooms whose journeys are kept, the most recently written; with traceMessages, it bounds the memory journeys take (about 0.5 KB each).',
  }),
  kernelStateTtl: opt({
    kind: 'int',
    default: 1000,
    min: 0,
    max: 60_000,
    group: 'Network',
    doc: "Milliseconds one reading of the kernel's socket tables (`ss -tin`, /proc/net/udp) serves GET /v1/sockets, however many ask; 0 reads them for every request.",
  }),
  busFollowTimeout: opt({
    kind: 'int',
    default: 2000,
    min: 1,
    max: 60_000,
    group: 'Storage',
    doc: "With Redis: the longest a subscribe waits (ms) for Redis to confirm that the room's events reach this node; past it the subscription goes on and re-reads the room from the store once they do.",
  }),
  postgresPool: opt({
    kind: 'int',
    default: 10,
    min: 1,
    max: 1000,
    group: 'Storage',
    doc: 'Connections this node keeps to PostgreSQL.',
  }),
  sqliteSynchronous: opt({
    kind: 'enum',
    default: 'fdatasync',
    values: ['full', 'fdatasync', 'normal'],
    group: 'Storage',
    doc: 'How SQLite commits reach the disk (WAL mode). `full`: SQLite fsyncs every commit on the event loop; acknowledged writes survive power loss. `fdatasync`: the same promise for acknowledged writes, with the log fdatasynced off the event loop and shared by every commit of that moment; a REST GET, a `sub` head or a replay that read a commit still being synced waits for that sync, so clients see only durable data. `normal`: no sync per commit; survives a process crash (kill -9) only.',
  }),
  groupCommitMaxBatch: opt({
    kind: 'int',
    default: 512,
    min: 1,
    max: 100_000,
    group: 'Storage',
    doc: 'Most writes committed in one transaction (one fsync). Writes queued in the same event-loop turn share it.',
  }),
  cacheRooms: opt({
    kind: 'int',
    default: 10_000,
    min: 0,
    max: 10_000_000,
    group: 'Storage',
    doc: 'Rooms the embedded store keeps in memory, so the access check of a request reads no database; 0 turns it off. Needs one serving process per data directory.',
  }),
  cacheRoles: opt({
    kind: 'int',
    default: 100_000,
    min: 0,
    max: 100_000_000,
    group: 'Storage',
    doc: '(room, user) roles the embedded store keeps in memory beside the rooms; 0 turns it off. When full, it starts over.',
  }),
  postAccessTtl: opt({
    kind: 'int',
    default: 1000,
    min: 0,
    max: 60_000,
    group: 'Storage',
    doc: "How long (ms) a node remembers who may post in a room (its privacy, owner and the author's role) instead of reading the store for every pub; 0 reads it every time. A change of the room or its members on any node drops the entry at once (through the bus); this bounds it if the bus lost that event.",
  }),
  postAccessRooms: opt({
    kind: 'int',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    group: 'Storage',
    doc: 'Most rooms whose post access a node remembers (see `postAccessTtl`); the oldest is dropped first.',
  }),
  postAccessAuthors: opt({
    kind: 'int',
    default: 1000,
    min: 1,
    max: 1_000_000,
    group: 'Storage',
    doc: 'Most authors per room whose role a node remembers for posting (see `postAccessTtl`).',
  }),
  jwksUrl: opt({
    kind: 'string',
    default: undefined,
    group: 'Auth',
    doc: 'Also accept tokens signed by the keys at this JWKS URL (an external identity server).',
  }),
  jwtIssuer: opt({
    kind: 'string',
    default: 'porthouse',
    group: 'Auth',
    doc: 'Expected and issued `iss` claim.',
  }),
  jwtAudience: opt({
    kind: 'string',
    default: 'porthouse',
    group: 'Auth',
    doc: 'Expected and issued `aud` claim.',
  }),
  tokenTtl: opt({
    kind: 'int',
    default: 86_400,
    min: 60,
    max: 31_536_000,
    group: 'Auth',
    doc: 'Lifetime of issued tokens, in seconds.',
  }),
  registration: opt({
    kind: 'bool',
    default: true,
    group: 'Auth',
    doc: 'Open registration (`POST /v1/users`). `--no-registration` closes it; admins are then made with `porthouse admin add-user`.',
  }),
  scryptCost: opt({
    kind: 'int',
    default: 17,
    min: 10,
    max: 20,
    group: 'Auth',
    doc: 'log2 of scrypt N for new password hashes (r=8, p=1). 17 is the OWASP minimum; lower it only for tests.',
  }),
  bodyLimit: opt({
    kind: 'int',
    default: 65_536,
    min: 1024,
    max: 16_777_216,
    group: 'Limits',
    doc: 'Largest HTTP request body, in bytes (413 above).',
  }),
  maxTextLength: opt({
    kind: 'int',
    default: 4000,
    min: 1,
    max: 100_000,
    group: 'Limits',
    doc: 'Longest message text, in Unicode code points (422 `text_too_long` above).',
  }),
  historyPageSize: opt({
    kind: 'int',
    default: 50,
    min: 1,
    max: 200,
    group: 'Limits',
    doc: 'History page size when `limit` is not given (the most a client may ask for is 200).',
  }),
  idempotencyWindow: opt({
    kind: 'int',
    default: 86_400,
    min: 60,
    max: 2_592_000,
    group: 'Limits',
    doc: 'How long an `Idempotency-Key` is remembered, in seconds.',
  }),
  rateLimits: opt({
    kind: 'bool',
    default: true,
    group: 'Rate limits',
    doc: '`off` lifts every rate limit at once (benchmarks use it).',
  }),
  rateRequestsPerSecond: opt({
    kind: 'int',
    default: 50,
    min: 1,
    max: 1_000_000,
    group: 'Rate limits',
    doc: 'Sustained HTTP requests per second per client (user, or source address before login).',
  }),
  rateRequestsBurst: opt({
    kind: 'int',
    default: 200,
    min: 1,
    max: 1_000_000,
    group: 'Rate limits',
    doc: 'HTTP requests a client may make at once after a quiet spell.',
  }),
  rateLoginsPerMinute: opt({
    kind: 'int',
    default: 20,
    min: 1,
    max: 100_000,
    group: 'Rate limits',
    doc: 'Log-ins and registrations per minute per source address (password guessing).',
  }),
  framePubPerSecond: opt({
    kind: 'int',
    default: 20,
    min: 1,
    max: 1_000_000,
    group: 'Rate limits',
    doc: 'Sustained `pub` frames per second per connection (WebSocket, TCP) or source (UDP).',
  }),
  framePubBurst: opt({
    kind: 'int',
    default: 100,
    min: 1,
    max: 1_000_000,
    group: 'Rate limits',
    doc: '`pub` frames a connection may send at once after a quiet spell.',
  }),
  typingPerSecond: opt({
    kind: 'int',
    default: 2,
    min: 1,
    max: 1000,
    group: 'Rate limits',
    doc: '`typing` frames per second per connection (and `POST /v1/rooms/{room}/typing` per user); more are refused with rate_limited.',
  }),
  maxConnectionsPerAddress: opt({
    kind: 'int',
    default: 1000,
    min: 0,
    max: 1_000_000,
    group: 'Limits',
    doc: 'Connections one client address may hold open across HTTP (with its WebSocket and SSE) and TCP; IPv6 counts per /64. One more is refused on accept (HTTP 429 or a TCP `error` frame, code `too_many_connections`). Behind a proxy every connection comes from the proxy: raise this or set 0 (off) and cap per client in the proxy.',
  }),
  maxConnectionsPerUser: opt({
    kind: 'int',
    default: 0,
    min: 0,
    max: 1_000_000,
    group: 'Limits',
    doc: 'WebSocket and TCP connections one user may hold open on this node (each node counts its own); 0 is no limit. One more is ended as it authenticates: WebSocket close 4429, or a TCP `error` frame, code `too_many_connections`. Off by default, as in Centrifugo (`client_user_connection_limit`): benchmarks and bots hold thousands under one user; for people, a few dozen covers every tab and device.',
  }),
  wsOrigins: opt({
    kind: 'string',
    default: '',
    group: 'Real-time',
    doc: 'Comma-separated origins (`https://chat.example`) a browser may open a WebSocket from, besides the server’s own; `*` allows any. Requests without Origin (non-browsers) are always allowed.',
  }),
  wsMaxPayload: opt({
    kind: 'int',
    default: 65_536,
    min: 256,
    max: 16_777_216,
    group: 'Real-time',
    doc: 'Largest WebSocket message a client may send (bytes); a larger one gets `error frame_too_large` and a 1009 close (more than 64 KiB past it, the 1009 close alone, the message unread).',
  }),
  wsAuthTimeout: opt({
    kind: 'int',
    default: 5000,
    min: 100,
    max: 600_000,
    group: 'Real-time',
    doc: 'Milliseconds a WebSocket (or TCP) connection has to send `auth` when the upgrade carried no token; then it is closed with 4401.',
  }),
  wsPingInterval: opt({
    kind: 'int',
    default: 30_000,
    min: 100,
    max: 600_000,
    group: 'Real-time',
    doc: 'Milliseconds between the server’s pings; a peer that has not answered the previous ping is dropped, so a dead peer goes within two intervals.',
  }),
  wsCompression: opt({
    kind: 'bool',
    default: false,
    group: 'Real-time',
    doc: 'permessage-deflate. Off by default: it costs CPU and memory per connection and defeats framing each event once.',
  }),
  sendBufferLimit: opt({
    kind: 'int',
    default: 1_048_576,
    min: 1024,
    max: 1_073_741_824,
    group: 'Real-time',
    doc: 'Bytes waiting to be sent to one connection (WebSocket, SSE, TCP) before it is cut off as a slow consumer (close 4008); it may resume with since.',
  }),
  slowConsumerGrace: opt({
    kind: 'int',
    default: 30_000,
    min: 0,
    max: 600_000,
    group: 'Real-time',
    doc: 'Milliseconds a connection cut off as a slow consumer has to read what it was already sent and its close (4008, a last `error` line on TCP, the end of an SSE stream) before it is dropped. It leaves its rooms, presence and the per-user count at once; its socket counts against maxConnectionsPerAddress until dropped, and its memory is already bounded by sendBufferLimit.',
  }),
  maxSubscriptions: opt({
    kind: 'int',
    default: 100,
    min: 1,
    max: 100_000,
    group: 'Real-time',
    doc: 'Rooms one connection may subscribe to at once.',
  }),
  replayPageSize: opt({
    kind: 'int',
    default: 200,
    min: 1,
    max: 10_000,
    group: 'Real-time',
    doc: 'Messages read per store query while replaying `since`; each page waits for the connection to drain.',
  }),
  presenceInterval: opt({
    kind: 'int',
    default: 1000,
    min: 0,
    max: 600_000,
    group: 'Real-time',
    doc: 'Milliseconds between presence announcements of one room (changes in between are batched).',
  }),
  reorderWait: opt({
    kind: 'int',
    default: 250,
    min: 0,
    max: 10_000,
    group: 'Real-time',
    doc: 'With several nodes: milliseconds a node holds a message that arrived ahead of its turn, waiting for an earlier one still on its way through the bus, before its subscribers read the gap from the store; 0 reads at once. A hold ends the moment the earlier one arrives, so only a message that never comes (its node died between storing and publishing it) waits this long; a busy node delays messages by tens of milliseconds, and each timeout costs every subscription of the room a store read.',
  }),
  busMergeWait: opt({
    kind: 'int',
    default: 10,
    min: 0,
    max: 1000,
    group: 'Real-time',
    doc: "With Redis: the longest (ms) another node's events of a room wait while this node is storing a message in that room, so both reach the room's subscribers here in one socket write each; the wait ends as soon as that message is published. 0 hands them on at once.",
  }),
  presenceLease: opt({
    kind: 'int',
    default: 15_000,
    min: 100,
    max: 600_000,
    group: 'Real-time',
    doc: "With Redis: how long a node's share of presence lives unless renewed (ms; renewed every quarter of it). A node that dies silently drops its users from presence within this lease and a quarter.",
  }),
  sseHeartbeat: opt({
    kind: 'int',
    default: 15_000,
    min: 100,
    max: 600_000,
    group: 'Real-time',
    doc: 'Milliseconds between SSE comment lines that keep idle streams (and proxies) alive.',
  }),
  headersTimeout: opt({
    kind: 'int',
    default: 10_000,
    min: 100,
    max: 600_000,
    group: 'Timeouts',
    doc: 'Milliseconds a client has to send all request headers (slowloris).',
  }),
  requestTimeout: opt({
    kind: 'int',
    default: 30_000,
    min: 100,
    max: 3_600_000,
    group: 'Timeouts',
    doc: 'Milliseconds a client has to send a whole request.',
  }),
  keepAliveTimeout: opt({
    kind: 'int',
    default: 5000,
    min: 100,
    max: 600_000,
    group: 'Timeouts',
    doc: 'Milliseconds an idle keep-alive HTTP connection is kept open.',
  }),
  shutdownTimeout: opt({
    kind: 'int',
    default: 10_000,
    min: 100,
    max: 600_000,
    group: 'Timeouts',
    doc: 'Milliseconds in-flight work gets to finish on SIGINT/SIGTERM before connections are cut.',
  }),
  logLevel: opt({
    kind: 'enum',
    default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    group: 'Operations',
    doc: 'Log level (JSON lines on stderr).',
  }),
  corsOrigins: opt({
    kind: 'string',
    default: '',
    group: 'Network',
    doc: 'Comma-separated origins (`https://chat.example`) whose pages may call the REST door and open SSE streams (CORS); `*` allows any. Empty: same-origin only. A front end served elsewhere needs its origin here and in wsOrigins.',
  }),
  trustProxy: opt({
    kind: 'bool',
    default: false,
    group: 'Operations',
    doc: 'Take the client address from X-Forwarded-For (behind a load balancer); affects rate limits.',
  }),
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

type ValueOf<S> = S extends { kind: 'int' }
  ? number
  : S extends { kind: 'bool' }
    ? boolean
    : S extends { default: undefined }
      ? string | undefined
      : string;

export type Config = { readonly [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> };

/** `rateLimits` → `rate-limits` (the flag) and `PORTHOUSE_RATE_LIMITS` (the variable). */
export const flagOf = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envOf = (name: string): string => `PORTHOUSE_${flagOf(name).replace(/-/g, '_').toUpperCase()}`;

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const TRUE = new Set(['1', 'true', 'on', 'yes']);
const FALSE = new Set(['0', 'false', 'off', 'no']);

/** `where` names the source as the user wrote it: `--port`, `PORTHOUSE_PORT`, `config file F: port`. */
function coerce(spec: OptionSpec, raw: unknown, where: string): string | number | boolean {
  switch (spec.kind) {
    case 'int': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
            ? Number(raw)
            : NaN;
      if (!Number.isSafeInteger(n))
        throw new ConfigError(`${where}: expected a whole number, got ${JSON.stringify(raw)}`);
      if (spec.min !== undefined && n < spec.min)
        throw new ConfigError(`${where}: ${n} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && n > spec.max)
        throw new ConfigError(`${where}: ${n} is above the maximum ${spec.max}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
      throw new ConfigError(`${where}: expected on/off, got ${JSON.stringify(raw)}`);
    }
    case 'enum': {
      const s = String(raw);
      if (!spec.values?.includes(s))
        throw new ConfigError(
          `${where}: expected one of ${spec.values?.join(', ')}, got ${JSON.stringify(raw)}`,
        );
      return s;
    }
    default:
      if (typeof raw !== 'string' || raw === '')
        throw new ConfigError(`${where}: expected a non-empty string`);
      return raw;
  }
}

export interface ConfigSources {
  /** Parsed flags, keyed by option name (already mapped from --kebab-case). */
  flags?: Partial<Record<string, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** Direct overrides (tests, embedding), applied last. */
  overrides?: Partial<Record<OptionName, unknown>>;
  /** Path of a JSON file of options; also read from flags.config / PORTHOUSE_CONFIG. */
  file?: string;
}

/** Merge, validate and freeze a node's configuration. Throws ConfigError naming the option. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTIONS)) out[name] = spec.default;

  const file = sources.file ?? (sources.flags?.['config'] as string | undefined) ?? env['PORTHOUSE_CONFIG'];
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ConfigError(`config file ${file}: expected a JSON object`);
    for (const [name, raw] of Object.entries(parsed)) {
      const spec = (OPTIONS as Record<string, OptionSpec>)[name];
      if (!spec) throw new ConfigError(`config file ${file}: unknown option ${JSON.stringify(name)}`);
      out[name] = coerce(spec, raw, `config file ${file}: ${name}`);
    }
  }
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const raw = env[envOf(name)];
    if (raw !== undefined && raw !== '') out[name] = coerce(spec, raw, envOf(name));
  }
  if (isTrue(env['PORTHOUSE_NO_REGISTRATION'])) out['registration'] = false;
  for (const layer of [sources.flags, sources.overrides]) {
    if (!layer) continue;
    for (const [name, raw] of Object.entries(layer)) {
      if (name === 'config' || raw === undefined) continue;
      const spec = (OPTIONS as Record<string, OptionSpec>)[name];
      if (!spec) throw new ConfigError(`unknown option ${JSON.stringify(name)}`);
      out[name] = coerce(spec, raw, `--${flagOf(name)}`);
    }
  }
  return Object.freeze(out) as Config;
}

/**
 * What a serving node needs beyond each value being valid: options that go together, and the
 * files they name. A node (`start`) checks it before opening anything; the admin commands,
 * which serve nothing, do not.
 */
export function checkServable(config: Config): void {
  const named = (name: OptionName) => `--${flagOf(name)} (${envOf(name)})`;
  if (Boolean(config.tcpTlsCert) !== Boolean(config.tcpTlsKey))
    throw new ConfigError(
      `${named('tcpTlsCert')} and ${named('tcpTlsKey')}: TLS for the TCP door needs both, or neither`,
    );
  if (config.ircMotd !== undefined && !existsSync(config.ircMotd))
    throw new ConfigError(`${named('ircMotd')}: no such file ${config.ircMotd}`);
  if (config.web !== 'bundled' && config.web !== 'off' && !existsSync(join(config.web, 'index.html')))
    throw new ConfigError(
      `${named('web')}: no index.html in ${config.web} (a client build, bundled, or off)`,
    );
}

function isTrue(raw: string | undefined): boolean {
  return raw !== undefined && TRUE.has(raw.trim().toLowerCase());
}

/** docs/config.md, generated from the table so the docs cannot drift from the code. */
/** An option's default as a person reads it: on/off for switches; undefined when it has none. */
function shownDefault(spec: OptionSpec): string | undefined {
  if (spec.default === undefined) return undefined;
  if (spec.kind === 'bool') return spec.default ? 'on' : 'off';
  return String(spec.default);
}

/** The options by group, in the order groups first appear; options keep their order within it. */
function optionGroups(): Map<string, [string, OptionSpec][]> {
  const groups = new Map<string, [string, OptionSpec][]>();
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    const group = groups.get(spec.group) ?? [];
    group.push([name, spec]);
    groups.set(spec.group, group);
  }
  return groups;
}

export function renderConfigDoc(): string {
  const lines = [
    '# Configuration',
    '',
    'Generated from `src/config.ts` by `npm run docs:config`; a test fails when this file is stale.',
    '',
    'Every option can be set, from lowest to highest precedence, in a JSON file given by `--config FILE`',
    '(keys as in the first column), by its `PORTHOUSE_*` environment variable, or by its flag.',
    'Booleans take `on`/`off` (also `true`/`false`, `1`/`0`). The whole configuration is validated',
    'once at start-up; a bad value stops the node with a message naming the option.',
    '',
  ];
  for (const [group, options] of optionGroups()) {
    lines.push(
      `## ${group}`,
      '',
      '| option | flag | variable | default | meaning |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [name, spec] of options) {
      const range = spec.kind === 'int' && spec.min !== undefined ? ` (${spec.min}–${spec.max})` : '';
      const values = spec.values ? ` (${spec.values.join(', ')})` : '';
      const shown = shownDefault(spec);
      const def = shown === undefined ? '(none)' : spec.kind === 'bool' ? shown : `\`${shown}\``;
      const flag =
        name === 'registration' ? '`--registration`, `--no-registration`' : `\`--${flagOf(name)}\``;
      lines.push(
        `| \`${name}\` | ${flag} | \`${envOf(name)}\` | ${def}${range}${values} | ${spec.doc.replace(/\|/g, '\\|')} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Wraps `text` to lines of at most `width` characters, each starting with `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/**
 * `porthouse serve --help`: every option with its flag, value, default and meaning, from the
 * same table as docs/config.md, grouped the same way.
 */
export function renderServeHelp(): string {
  const lines = [
    'usage: porthouse serve [OPTION...]',
    '',
    'Every option may also be set by its PORTHOUSE_* environment variable or in a JSON file',
    'given by --config FILE (keys as in docs/config.md); a flag wins over both.',
  ];
  for (const [group, options] of optionGroups()) {
    lines.push('', `${group}:`);
    for (const [name, spec] of options) {
      const value =
        spec.kind === 'bool'
          ? ''
          : spec.values
            ? ` ${spec.values.join('|')}`
            : spec.kind === 'int'
              ? ' N'
              : ' VALUE';
      const flag = name === 'registration' ? '--[no-]registration' : `--${flagOf(name)}${value}`;
      const shown = shownDefault(spec);
      const def = shown === undefined ? 'no default' : `default ${shown}`;
      const range = spec.kind === 'int' && spec.min !== undefined ? `, ${spec.min}–${spec.max}` : '';
      lines.push(`  ${flag}  (${def}${range})`, ...wrap(spec.doc, 100, '      '));
    }
  }
  return lines.join('\n');
}
