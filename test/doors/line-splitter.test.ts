// The TCP framing, without a socket: lines split across reads, many lines in one read, the
// length limit enforced without buffering past it, CRLF, and invalid UTF-8.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type LineEvent, LineSplitter } from '../../src/doors/line-splitter.js';

const texts = (events: LineEvent[]) => events.map((e) => (e.kind === 'line' ? e.text : `<${e.kind}>`));

test('a line split across many reads comes out whole, once its newline arrives', () => {
  const s = new LineSplitter(1024);
  assert.deepEqual(s.push(Buffer.from('{"type":')), []);
  assert.deepEqual(s.push(Buffer.from('"ping"')), []);
  assert.deepEqual(texts(s.push(Buffer.from('}\n{"ty'))), ['{"type":"ping"}']);
  assert.deepEqual(
    texts(s.push(Buffer.from('pe":"pong"}\r\n'))),
    ['{"type":"pong"}'],
    'CRLF ends a line too',
  );
});

test('several lines in one read come out in order', () => {
  const s = new LineSplitter(1024);
  assert.deepEqual(texts(s.push(Buffer.from('a\nb\n\nc\nd'))), ['a', 'b', '', 'c']);
  assert.deepEqual(texts(s.push(Buffer.from('\n'))), ['d']);
});

test('a multi-byte character split between reads survives', () => {
  const s = new LineSplitter(1024);
  const bytes = Buffer.from('héllo 🌍\n');
  assert.deepEqual(s.push(bytes.subarray(0, 2)), []);
  assert.deepEqual(s.push(bytes.subarray(2, 9)), []);
  assert.deepEqual(texts(s.push(bytes.subarray(9))), ['héllo 🌍']);
});

test('a line over the limit is reported as soon as it passes it, without buffering the rest', () => {
  const s = new LineSplitter(10);
  assert.deepEqual(texts(s.push(Buffer.from('0123456789abc'))), ['<too_long>']);
  assert.equal(s.pending, 0, 'nothing of it is kept');
  assert.deepEqual(s.push(Buffer.from('more of the same long line')), []);
  assert.deepEqual(texts(s.push(Buffer.from('end\nok\n'))), ['ok'], 'reported once; the next line is fine');
  assert.deepEqual(texts(s.push(Buffer.from('exactly10!\n'))), ['exactly10!'], 'the limit itself is allowed');
});

test('invalid UTF-8 is reported, not turned into replacement characters', () => {
  const s = new LineSplitter(100);
  assert.deepEqual(texts(s.push(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]))), ['<invalid_utf8>']);
});

test('any way of cutting a stream into reads yields the same lines', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.string({ maxLength: 40 }).map((t) => t.replace(/[\n\r]/g, ' ')),
        { maxLength: 20 },
      ),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 10 }),
      (lines, cuts) => {
        const stream = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const s = new LineSplitter(1000);
        const out: LineEvent[] = [];
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const size = cuts[i % cuts.length]!;
          out.push(...s.push(stream.subarray(at, at + size)));
          at += size;
        }
        assert.deepEqual(
          texts(out),
          lines.map((l) => (l.isWellFormed() ? l : '<invalid_utf8>')),
        );
      },
    ),
    { numRuns: 2000 },
  );
});

test('each line reports its bytes as they came, its newline and a CR before it included', () => {
  const s = new LineSplitter(100);
  const events = s.push(Buffer.from('ab\r\nécho\n'));
  assert.deepEqual(
    events.map((e) => (e.kind === 'line' ? [e.text, e.bytes] : e.kind)),
    [
      ['ab', 4],
      ['écho', 6],
    ],
  );
});
