// The IRC door's pure parts without a socket: the line parser and formatter, tag escaping, text
// cut to fit 512 bytes, SASL PLAIN chunks, capability negotiation and CHATHISTORY's arguments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Capabilities } from '../../../src/doors/irc/capabilities.js';
import { parseChathistory } from '../../../src/doors/irc/chathistory.js';
import { messageLines, parseMsgid, roomOf, userOf } from '../../../src/doors/irc/event-lines.js';
import {
  escapeTagValue,
  formatIrcLine,
  parseIrcLine,
  splitText,
  unescapeTagValue,
} from '../../../src/doors/irc/irc-message.js';
import { PlainExchange } from '../../../src/doors/irc/sasl.js';

test('a line parses into tags, source, command and params, the trailing one with its spaces', () => {
  const r = parseIrcLine('@label=a\\sb;+typing=active;flag :ada!ada@host privmsg #r :hello  there ');
  assert.ok(r.ok);
  assert.deepEqual(Object.fromEntries(r.message.tags), { label: 'a b', '+typing': 'active', flag: '' });
  assert.equal(r.message.source, 'ada!ada@host');
  assert.equal(r.message.command, 'PRIVMSG');
  assert.deepEqual(r.message.params, ['#r', 'hello  there ']);
  const plain = parseIrcLine('JOIN   #a,#b  key');
  assert.ok(plain.ok);
  assert.deepEqual(plain.message.params, ['#a,#b', 'key']);
  const empty = parseIrcLine('PRIVMSG #r :');
  assert.ok(empty.ok);
  assert.deepEqual(empty.message.params, ['#r', '']);
});

test('the 512-byte limit counts bytes of the line without its tags; tags have their own', () => {
  assert.equal(parseIrcLine(`PRIVMSG #r :${'a'.repeat(498)}`).ok, true, '510 bytes and CR LF');
  assert.deepEqual(parseIrcLine(`PRIVMSG #r :${'a'.repeat(499)}`), { ok: false, problem: 'input_too_long' });
  assert.deepEqual(parseIrcLine(`PRIVMSG #r :${'é'.repeat(250)}`), { ok: false, problem: 'input_too_long' });
  assert.equal(parseIrcLine(`@x=${'t'.repeat(4000)} PING a`).ok, true);
  assert.deepEqual(parseIrcLine(`@x=${'t'.repeat(4100)} PING a`), { ok: false, problem: 'tags_too_long' });
  assert.deepEqual(parseIrcLine(''), { ok: false, problem: 'empty' });
  assert.deepEqual(parseIrcLine('@a=1'), { ok: false, problem: 'no_command' });
  assert.deepEqual(parseIrcLine(':onlysource'), { ok: false, problem: 'no_command' });
});

test('any text parses or is refused, never throws; a formatted line parses back to itself', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 700 }), (s) => {
      const r = parseIrcLine(s);
      assert.equal(typeof r.ok, 'boolean');
    }),
    { numRuns: 2000 },
  );
  const word = fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((w) => !/[\s\0:]/.test(w) && !w.startsWith('@'));
  fc.assert(
    fc.property(
      fc.constantFrom('PRIVMSG', 'NOTICE', '001', 'TOPIC'),
      fc.array(word, { maxLength: 4 }),
      fc.string({ maxLength: 60 }).filter((t) => !/[\r\n\0]/.test(t)),
      fc.dictionary(fc.constantFrom('label', 'time', '+typing', 'msgid'), fc.string({ maxLength: 20 })),
      (command, words, text, tags) => {
        const tagText =
          Object.keys(tags).length === 0
            ? ''
            : `@${Object.entries(tags)
                .map(([k, v]) => (v === '' ? k : `${k}=${escapeTagValue(v)}`))
                .join(';')} `;
        const line = formatIrcLine('srv', command, [...words, text], { tags: tagText, trailing: true });
        assert.ok(line.endsWith('\r\n'));
        const r = parseIrcLine(line.slice(0, -2));
        assert.ok(r.ok);
        assert.equal(r.message.command, command);
        assert.deepEqual(r.message.params, [...words, text]);
        assert.deepEqual(Object.fromEntries(r.message.tags), { ...tags });
      },
    ),
    { numRuns: 1000 },
  );
});

test('tag values escape and unescape as IRCv3 says, a lone backslash dropped', () => {
  assert.equal(escapeTagValue('a;b c\\d\r\n'), 'a\\:b\\sc\\\\d\\r\\n');
  assert.equal(unescapeTagValue('a\\:b\\sc\\\\d\\r\\n'), 'a;b c\\d\r\n');
  assert.equal(unescapeTagValue('x\\'), 'x');
  assert.equal(unescapeTagValue('\\q'), 'q');
  fc.assert(fc.property(fc.string(), (s) => unescapeTagValue(escapeTagValue(s)) === s));
});

test('a long or multi-line text is cut between code points into lines that each fit 512 bytes', () => {
  assert.deepEqual(splitText('one\ntwo\r\n\r\nthree', 100), ['one', 'two', 'three']);
  const pieces = splitText('😀'.repeat(300), 100);
  for (const p of pieces) assert.ok(Buffer.byteLength(p) <= 100);
  assert.equal(pieces.join(''), '😀'.repeat(300));
  const lines = messageLines(
    {
      room: 'r',
      seq: 7,
      id: 'x',
      author: 'ada',
      text: `${'é'.repeat(600)}\nend`,
      via: 'ws',
      createdAt: '2026-01-01T00:00:00.000Z',
    },
    15,
    'porthouse',
  )
    .split('\r\n')
    .filter(Boolean);
  for (const l of lines) {
    const r = parseIrcLine(l);
    assert.ok(r.ok, `each line parses within its limits: ${l.slice(0, 80)}`);
  }
  assert.equal(lines.filter((l) => l.includes('msgid=r:7')).length, 1, 'one line carries the msgid');
  assert.equal(lines.at(-1)!.endsWith(' :end'), true);
});

test('channels, nicks and msgids map to rooms, users and seqs (ASCII case folded)', () => {
  assert.equal(roomOf('#General'), 'general');
  assert.equal(roomOf('general'), undefined);
  assert.equal(roomOf('#a b'), undefined);
  assert.equal(roomOf(`#${'a'.repeat(65)}`), undefined);
  assert.equal(userOf('Ada'), 'ada');
  assert.equal(userOf('ada!'), undefined);
  assert.deepEqual(parseMsgid('my-room:42'), { room: 'my-room', seq: 42 });
  assert.equal(parseMsgid('room:0'), undefined);
  assert.equal(parseMsgid('42'), undefined);
});

test('SASL PLAIN arrives in 400-byte pieces; `+` ends an exact multiple; bad payloads are refused', () => {
  const token = 'x'.repeat(500);
  const payload = Buffer.from(`\0ada\0${token}`).toString('base64');
  const sasl = new PlainExchange();
  assert.deepEqual(sasl.push(payload.slice(0, 400)), { kind: 'more' });
  assert.deepEqual(sasl.push(payload.slice(400)), {
    kind: 'done',
    credentials: { authzid: '', authcid: 'ada', password: token },
  });
  const exact = Buffer.from(`ada\0ada\0${'p'.repeat(292)}`).toString('base64');
  assert.equal(exact.length, 400);
  const again = new PlainExchange();
  assert.deepEqual(again.push(exact), { kind: 'more' });
  assert.equal(again.push('+').kind, 'done');
  assert.equal(new PlainExchange().push('!!!').kind, 'invalid');
  assert.equal(new PlainExchange().push(Buffer.from('no-nuls').toString('base64')).kind, 'invalid');
  const long = new PlainExchange();
  let step = long.push('A'.repeat(400));
  for (let i = 0; i < 30 && step.kind === 'more'; i++) step = long.push('A'.repeat(400));
  assert.deepEqual(step, { kind: 'too_long', ended: false });
  // The rest of a refused payload is discarded, up to and including its last chunk.
  assert.deepEqual(long.push('A'.repeat(400)), { kind: 'discarding', ended: false });
  assert.deepEqual(long.push('AAAA'), { kind: 'discarding', ended: true });
  // One chunk past 400 bytes is a client that does not split: refused at once.
  assert.deepEqual(new PlainExchange().push('A'.repeat(500)), { kind: 'chunk_too_long' });
});

test('CAP REQ is all or nothing; LS 302 shows values; -cap turns one off', () => {
  const caps = new Capabilities();
  const ls = caps.list(302).flat().join(' ');
  assert.match(ls, /sasl=PLAIN/);
  assert.ok(caps.negotiating, 'LS starts negotiation: registration waits for CAP END');
  assert.deepEqual(caps.request('server-time bogus'), { ack: false, caps: 'server-time bogus' });
  assert.equal(caps.has('server-time'), false);
  assert.equal(caps.request('server-time echo-message').ack, true);
  assert.equal(caps.has('echo-message'), true);
  assert.equal(caps.request('-echo-message').ack, true);
  assert.equal(caps.has('echo-message'), false);
  assert.doesNotMatch(new Capabilities().list(301).flat().join(' '), /=/);
});

test('CHATHISTORY arguments: each subcommand, references by msgid, time or *, the limit capped', () => {
  const latest = parseChathistory(['LATEST', '#r', '*', '500'], 100);
  assert.deepEqual(latest, {
    ok: true,
    request: { sub: 'LATEST', target: '#r', room: 'r', ref: { kind: 'none' }, limit: 100 },
  });
  const before = parseChathistory(['before', '#r', 'msgid=r:9', '5'], 100);
  assert.ok(before.ok && before.request.sub === 'BEFORE');
  const between = parseChathistory(
    ['BETWEEN', '#r', 'timestamp=2026-01-01T00:00:00Z', 'msgid=r:3', '10'],
    100,
  );
  assert.ok(between.ok && between.request.sub === 'BETWEEN' && between.request.from.kind === 'timestamp');
  assert.equal(
    parseChathistory(
      ['TARGETS', 'timestamp=2026-01-01T00:00:00Z', 'timestamp=2027-01-01T00:00:00Z', '5'],
      100,
    ).ok,
    true,
  );
  assert.deepEqual(parseChathistory(['BEFORE', '#r', '*', '5'], 100).ok, false, '* only for LATEST');
  const unknown = parseChathistory(['SIDEWAYS', '#r'], 100);
  assert.ok(!unknown.ok && unknown.code === 'UNKNOWN_COMMAND');
  const bad = parseChathistory(['AFTER', '#r', 'msgid=r:1', 'many'], 100);
  assert.ok(!bad.ok && bad.code === 'INVALID_PARAMS');
});
