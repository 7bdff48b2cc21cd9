// What the fuzzers send: fast-check arbitraries for hostile JSON (deep nesting, huge strings,
// 1e309, __proto__ keys, lone surrogates), raw WebSocket frames that break RFC 6455, TCP lines
// split inside UTF-8 sequences, and HTTP requests with broken request lines and headers.
// Pure: no sockets here, so a case can be replayed from its seed.
import fc from 'fast-check';

export const FUZZ_ROOM = 'fuzz';
/** The HTTP fuzz's room: its owner's token is in play there, so a case may delete it (it is made again). */
export const HTTP_ROOM = 'fuzz-http';

const nest = (n: number, open: string, close: string, inner = '') => open.repeat(n) + inner + close.repeat(n);

/** JSON texts (and near-JSON) aimed at parsers and validators. */
export const hostileJson: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc
    .record(
      {
        type: fc.constantFrom('auth', 'sub', 'unsub', 'pub', 'typing', 'ping', 'challenge', 'dance', ''),
        room: fc.oneof(
          fc.constantFrom(FUZZ_ROOM, 'secret', 'nowhere', 'Bad Room', ''),
          fc.string({ maxLength: 70 }),
        ),
        text: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.constant('\ud800'), fc.integer()),
        since: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(Number.MAX_SAFE_INTEGER)),
        ref: fc.oneof(fc.string({ maxLength: 140 }), fc.integer(), fc.constant(null)),
        token: fc.string({ maxLength: 40 }),
        cookie: fc.string({ maxLength: 30 }),
      },
      { requiredKeys: ['type'] },
    )
    .map((f) => JSON.stringify(f)),
  fc.integer({ min: 1, max: 30_000 }).map((n) => nest(n, '[', ']')),
  fc.integer({ min: 1, max: 6_000 }).map((n) => nest(n, '{"a":', '}', '1')),
  fc
    .integer({ min: 1, max: 3_000 })
    .map((n) => `{"type":"pub","room":"${FUZZ_ROOM}","text":"deep","extra":${nest(n, '[', ']')}}`),
  fc
    .integer({ min: 1_000, max: 80_000 })
    .map((n) => JSON.stringify({ type: 'pub', room: FUZZ_ROOM, text: 'x'.repeat(n) })),
  fc.integer({ min: 1_000, max: 80_000 }).map((n) => `"${'\\u0041'.repeat(n / 6)}"`),
  fc.constantFrom(
    '1e309',
    '-1e309',
    'NaN',
    'Infinity',
    'null',
    'true',
    '[]',
    '""',
    '{}',
    '\ufeff{"type":"ping"}',
    `{"type":"sub","room":"${FUZZ_ROOM}","since":1e309}`,
    `{"type":"sub","room":"${FUZZ_ROOM}","since":-1e309}`,
    `{"type":"sub","room":"${FUZZ_ROOM}","since":1e-400}`,
    `{"type":"sub","room":"${FUZZ_ROOM}","since":-0}`,
    `{"type":"sub","room":"${FUZZ_ROOM}","since":123456789012345678901234567890}`,
    `{"type":"sub","room":"${FUZZ_ROOM}","since":9007199254740993}`,
    '{"__proto__":{"type":"pub","admin":true}}',
    `{"type":"pub","room":"${FUZZ_ROOM}","text":"proto","__proto__":{"admin":true}}`,
    '{"constructor":{"prototype":{"admin":true}},"type":"ping"}',
    '{"type":"ping","type":"pub"}',
    `{"type":"pub","room":"${FUZZ_ROOM}","text":"\\ud800"}`,
    `{"type":"pub","room":"${FUZZ_ROOM}","text":"\\udfff\\ud800"}`,
    `{"type":"pub","room":"${FUZZ_ROOM}","text":"a\\u0000b"}`,
    `{"type":"pub","room":"${FUZZ_ROOM}","text":"\\u202e\\u0301\\u200b"}`,
    '{"type":"toString"}',
    '{"type":"hasOwnProperty"}',
    '{"type":"__proto__"}',
    `{"type":"sub","room":"__proto__"}`,
    `{"type":"sub","room":"constructor"}`,
    '{"type":"pub","room":{"toString":1},"text":"x"}',
    '{"type":"pub","room":["fuzz"],"text":"x"}',
    '{"type":"auth","token":{"__proto__":null}}',
    '{"type":',
    '{"type":"ping"',
    '{"type":"ping"}}',
    '{"type":"ping"} {"type":"ping"}',
  ),
);

/** One line for the TCP door, as the chunks it is written in (split anywhere, UTF-8 included). */
export interface TcpCase {
  readonly chunks: Buffer[];
  /** Set when the case is a pub whose text must be stored exactly as sent. */
  readonly pub?: { ref: string; text: string };
}

const splitAt = (bytes: Buffer, cuts: number[]) => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < bytes.length) out.push(bytes.subarray(from));
  return out;
};

/** Text with many multi-byte UTF-8 sequences (2, 3 and 4 bytes), so a cut often lands inside one. */
const multibyte = fc
  .array(fc.constantFrom('é', 'ß', '€', '✓', '中', '文', '😀', '🚢', '👩‍💻', 'a', ' '), {
    minLength: 1,
    maxLength: 40,
  })
  .map((parts) => parts.join('').trim() || 'é');

export function tcpCases(): fc.Arbitrary<(id: string) => TcpCase> {
  const cuts = fc.array(fc.nat(), { minLength: 1, maxLength: 6 });
  return fc.oneof(
    // Hostile JSON as one line (newlines inside would make several; they are flattened).
    {
      weight: 6,
      arbitrary: fc.tuple(hostileJson, cuts).map(([text, c]) => () => ({
        chunks: splitAt(Buffer.from(`${text.replace(/[\r\n]/g, ' ')}\n`), c),
      })),
    },
    // A valid pub whose text is multi-byte, split inside its sequences: it must be stored intact.
    {
      weight: 3,
      arbitrary: fc.tuple(multibyte, cuts).map(([text, c]) => (id: string) => {
        const ref = `u${id}`;
        const line = Buffer.from(`${JSON.stringify({ type: 'pub', room: FUZZ_ROOM, text, ref })}\n`);
        return { chunks: splitAt(line, c), pub: { ref, text } };
      }),
    },
    // Bytes that are not UTF-8 (lone continuation bytes, overlongs, surrogates, 0xFF), CRLF, NUL.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.constantFrom('\n', '\r\n'))
        .map(([bytes, end]) => () => ({
          chunks: [Buffer.concat([Buffer.from(bytes.filter((b) => b !== 0x0a)), Buffer.from(end)])],
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          Buffer.from([0xc0, 0xaf, 0x0a]),
          Buffer.from([0xed, 0xa0, 0x80, 0x0a]),
          Buffer.from([0xf4, 0x90, 0x80, 0x80, 0x0a]),
          Buffer.from('\u0000\u0000\n'),
          Buffer.from('   \r\n'),
          Buffer.from('\n\n\n'),
        )
        .map((b) => () => ({ chunks: [b] })),
    },
  );
}

/** A WebSocket frame as a client could write it, including everything RFC 6455 forbids. */
export interface RawFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Buffer;
}

export function encodeFrame(f: RawFrame): Buffer {
  const len = f.payload.length;
  const header = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = Buffer.alloc(header + (f.masked ? 4 : 0) + len);
  out[0] = (f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 0x0f);
  const maskBit = f.masked ? 0x80 : 0;
  if (len < 126) out[1] = maskBit | len;
  else if (len < 65_536) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!f.masked) {
    f.payload.copy(out, header);
    return out;
  }
  const mask = [0x12, 0x34, 0x56, 0x78];
  out.set(mask, header);
  for (let i = 0; i < len; i++) out[header + 4 + i] = f.payload[i]! ^ mask[i % 4]!;
  return out;
}

export const textFrame = (text: string): Buffer =>
  encodeFrame({ fin: true, rsv: 0, opcode: 1, masked: true, payload: Buffer.from(text) });

/** Bytes for one WebSocket case: mostly hostile JSON in proper text frames, some broken frames. */
export function wsCases(): fc.Arbitrary<Buffer> {
  const broken = fc
    .record({
      fin: fc.boolean(),
      rsv: fc.integer({ min: 0, max: 7 }),
      opcode: fc.integer({ min: 0, max: 15 }),
      masked: fc.boolean(),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        fc.constantFrom(
          Buffer.from([0xc3, 0x28]),
          Buffer.from([0xed, 0xa0, 0x80]),
          Buffer.from('{"type":"ping"}'),
        ),
      ),
    })
    .map(encodeFrame);
  const fragmented = fc.tuple(hostileJson, fc.integer({ min: 1, max: 5 })).map(([text, parts]) => {
    const bytes = Buffer.from(text);
    const size = Math.max(1, Math.ceil(bytes.length / parts));
    const frames: Buffer[] = [];
    for (let i = 0, at = 0; at < bytes.length || i === 0; i++, at += size) {
      const last = at + size >= bytes.length;
      frames.push(
        encodeFrame({
          fin: last,
          rsv: 0,
          opcode: i === 0 ? 1 : 0,
          masked: true,
          payload: bytes.subarray(at, at + size),
        }),
      );
    }
    return Buffer.concat(frames);
  });
  return fc.oneof(
    { weight: 7, arbitrary: hostileJson.map(textFrame) },
    { weight: 1, arbitrary: fragmented },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 100 })
        .map((a) => encodeFrame({ fin: true, rsv: 0, opcode: 2, masked: true, payload: Buffer.from(a) })),
    },
    { weight: 1, arbitrary: broken },
  );
}

/** A whole HTTP/1.1 request as bytes, most of it wrong in some way. */
export function rawHttpCases(token: string): fc.Arbitrary<string> {
  const method = fc.oneof(
    fc.constantFrom(
      'GET',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'HEAD',
      'OPTIONS',
      'TRACE',
      'CONNECT',
      'get',
      'G ET',
      '',
    ),
    fc.string({ maxLength: 12 }),
  );
  const target = fc.oneof(
    fc.constantFrom(
      '/v1/rooms',
      `/v1/rooms/${HTTP_ROOM}`,
      `/v1/rooms/${HTTP_ROOM}/messages?limit=-1`,
      `/v1/rooms/${HTTP_ROOM}/messages?before=1e309&limit=1e9`,
      `/v1/rooms/${HTTP_ROOM}/events?since=1e309`,
      `/v1/rooms/${HTTP_ROOM}/events?since=-1`,
      '/v1/rooms/%00',
      '/v1/rooms/%zz',
      '/v1/rooms/..%2f..%2fetc%2fpasswd',
      '//v1//rooms',
      '/v1/ws',
      '*',
      'http://evil.example/v1/rooms',
      '/healthz?__proto__[admin]=1',
      `/v1/rooms?${'a=1&'.repeat(2000)}`,
      `/${'a'.repeat(9000)}`,
    ),
    fc.string({ maxLength: 100 }).map((s) => `/${s}`),
  );
  const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', 'HTTP/9', '');
  const header = fc.oneof(
    fc.constantFrom(
      `Authorization: Bearer ${token}`,
      'Authorization: Bearer a.b.c',
      'Authorization: Basic Zm9vOmJhcg==',
      'Authorization: Bearer',
      'Content-Type: application/json',
      'Content-Type: text/plain',
      'Content-Type: application/json; charset=utf-16',
      'Content-Length: 5',
      'Content-Length: -1',
      'Content-Length: 99999999999999999999',
      'Content-Length: 5, 6',
      'Transfer-Encoding: chunked',
      'Transfer-Encoding: gzip, chunked',
      'Transfer-Encoding: xchunked',
      'Expect: 100-continue',
      'Last-Event-ID: 1e309',
      'Last-Event-ID: -5',
      'If-Match: "nope"',
      'If-None-Match: *',
      'Idempotency-Key: ',
      `Idempotency-Key: ${'k'.repeat(300)}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: not-base64',
      'Origin: http://evil.example',
      'Host: ',
      ' Host: folded',
      'X-Forwarded-For: 1.2.3.4, ::1',
      `X-Big: ${'b'.repeat(20_000)}`,
      'Bad Header: x',
      'Nul: a\u0000b',
    ),
    fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 })).map(([k, v]) => `${k}: ${v}`),
  );
  const body = fc.oneof(
    fc.constant(''),
    hostileJson,
    fc.constantFrom('0\r\n\r\n', 'zz\r\nabc\r\n0\r\n\r\n', '5\r\nhello\r\n'),
  );
  return fc
    .tuple(method, target, version, fc.array(header, { maxLength: 8 }), body)
    .map(([m, t, v, hs, b]) => `${m} ${t} ${v}\r\n${hs.map((h) => `${h}\r\n`).join('')}\r\n${b}`);
}

/** A request for the HTTP door's routes, with a body that is mostly wrong. */
export interface BodyCase {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly authorized: boolean;
}

export function bodyCases(): fc.Arbitrary<BodyCase> {
  return fc.record({
    method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET'),
    path: fc.constantFrom(
      '/v1/rooms',
      `/v1/rooms/${HTTP_ROOM}`,
      `/v1/rooms/${HTTP_ROOM}/messages`,
      `/v1/rooms/${HTTP_ROOM}/messages/1`,
      `/v1/rooms/${HTTP_ROOM}/members/nobody`,
      '/v1/rooms/secret/messages',
      '/v1/users',
      '/v1/tokens',
      '/v1/me',
    ),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'application/merge-patch+json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      undefined,
    ),
    body: hostileJson,
    headers: fc.dictionary(
      fc.constantFrom('idempotency-key', 'if-match', 'if-none-match', 'accept', 'x-forwarded-for'),
      fc.oneof(
        fc.string({ maxLength: 80 }).filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
        fc.constantFrom('*', '"x"', 'W/"1"'),
      ),
      { maxKeys: 2 },
    ),
    authorized: fc.boolean(),
  });
}

/** Commands an IRC client sends, and some it should not (its registration again, servers' own). */
const IRC_COMMANDS = [
  'PRIVMSG',
  'NOTICE',
  'JOIN',
  'PART',
  'TOPIC',
  'NAMES',
  'LIST',
  'WHO',
  'WHOIS',
  'MODE',
  'KICK',
  'INVITE',
  'AWAY',
  'CHATHISTORY',
  'REDACT',
  'TAGMSG',
  'CAP',
  'NICK',
  'USER',
  'PASS',
  'AUTHENTICATE',
  'PING',
  'PONG',
  'MOTD',
  'SERVER',
  'SQUIT',
  'OPER',
  'KILL',
  'privmsg',
  '',
] as const;

const ircWord = fc.oneof(
  fc.constantFrom(
    `#${FUZZ_ROOM}`,
    '#secret',
    '#',
    '#Fuzz',
    '#no-such',
    'fuzzer',
    '*',
    '0',
    'LATEST',
    'BEFORE',
    'AROUND',
    'BETWEEN',
    'TARGETS',
    'msgid=fuzz:1',
    'msgid=fuzz:999999',
    'timestamp=2026-01-01T00:00:00Z',
    'timestamp=nope',
    '+i',
    '-s',
    'b',
    '+o',
    'LS',
    'REQ',
    'END',
    'PLAIN',
    '+',
    '*',
    'fuzz:1',
    '100',
    '-1',
  ),
  fc.string({ maxLength: 20 }).map((s) => s.replace(/[\s\0]/g, '') || 'x'),
);

const ircTags = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '@label=x ',
    '@+typing=active ',
    '@+draft/typing=active;label=y ',
    '@a=\\:\\s\\\\;b ',
    '@ ',
    '@;;; ',
  ),
  fc.string({ maxLength: 30 }).map((s) => `@${s.replace(/[\s\0]/g, '')} `),
);

/**
 * One IRC case: a line of a known command with hostile parameters (tags, a trailing text that
 * is multi-byte, hostile JSON or past 512 bytes), raw bytes, or several lines; cut anywhere.
 */
export function ircCases(): fc.Arbitrary<TcpCase> {
  const cuts = fc.array(fc.nat(), { minLength: 1, maxLength: 6 });
  const trailing = fc.oneof(
    multibyte,
    hostileJson.map((s) => s.replace(/[\r\n\0]/g, ' ')),
    fc.nat({ max: 5000 }).map((n) => 'z'.repeat(n)),
    fc.constantFrom('\x01ACTION waves\x01', '\x01VERSION\x01', '\x01', ':', ''),
  );
  const line = fc
    .tuple(
      ircTags,
      fc.constantFrom(...IRC_COMMANDS),
      fc.array(ircWord, { maxLength: 6 }),
      fc.option(trailing),
    )
    .map(
      ([tags, cmd, words, text]) =>
        `${tags}${cmd}${words.map((w) => ` ${w}`).join('')}${text === null ? '' : ` :${text}`}`,
    );
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.array(line, { minLength: 1, maxLength: 3 }), fc.constantFrom('\r\n', '\n'), cuts)
        .map(([lines, end, c]) => ({ chunks: splitAt(Buffer.from(lines.map((l) => l + end).join('')), c) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.constantFrom('\n', '\r\n'))
        .map(([bytes, end]) => ({
          chunks: [Buffer.concat([Buffer.from(bytes.filter((b) => b !== 0x0a)), Buffer.from(end)])],
        })),
    },
  );
}
