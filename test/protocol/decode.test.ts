// The frame decoder, without a network: every input becomes a typed frame or a stable error
// code, never an exception. Thousands of generated frames, valid and not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ERRORS } from '../../src/core/errors.js';
import { decodeFrame } from '../../src/protocol/decode.js';

const roomName = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/);
const ref = fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.integer());
const validFrame = fc.oneof(
  fc.record({ type: fc.constant('auth'), token: fc.string({ minLength: 1, maxLength: 200 }) }),
  fc.record(
    { type: fc.constant('sub'), room: roomName, since: fc.nat(), ref },
    { requiredKeys: ['type', 'room'] },
  ),
  fc.record({ type: fc.constant('unsub'), room: roomName }),
  fc.record(
    { type: fc.constant('pub'), room: roomName, text: fc.string({ minLength: 1 }), ref },
    { requiredKeys: ['type', 'room', 'text'] },
  ),
  fc.record({ type: fc.constant('typing'), room: roomName }),
  fc.record({ type: fc.constant('ping'), ref }, { requiredKeys: ['type'] }),
);

test('every valid frame decodes to itself', () => {
  fc.assert(
    fc.property(validFrame, (frame) => {
      const decoded = decodeFrame(JSON.stringify(frame));
      assert.ok(decoded.ok, JSON.stringify(decoded));
      assert.deepEqual(decoded.frame, { ...frame });
    }),
    { numRuns: 3000 },
  );
});

test('anything else is an error with a known code, never an exception', () => {
  const anything = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    // Near misses: a valid frame with one field changed to something random.
    fc
      .tuple(validFrame, fc.string({ maxLength: 10 }), fc.jsonValue())
      .map(([f, k, v]) => JSON.stringify({ ...f, [k]: v })),
    fc.tuple(validFrame, fc.jsonValue()).map(([f, v]) => JSON.stringify({ ...f, type: v })),
  );
  fc.assert(
    fc.property(anything, (text) => {
      const decoded = decodeFrame(text);
      if (decoded.ok) return;
      assert.ok(decoded.code in ERRORS, decoded.code);
      assert.ok(
        ['malformed_json', 'validation_failed', 'unknown_frame'].includes(decoded.code),
        decoded.code,
      );
      assert.equal(typeof decoded.message, 'string');
    }),
    { numRuns: 5000 },
  );
});

test('refs are echoed in errors when readable, so clients can match them', () => {
  const d = decodeFrame('{"type":"pub","room":"x","ref":"mine"}');
  assert.equal(d.ok, false);
  assert.equal(!d.ok && d.ref, 'mine');
  assert.equal(!d.ok && d.code, 'validation_failed');
  const bad = decodeFrame(`{"type":"pub","room":"x","text":"t","ref":"${'x'.repeat(129)}"}`);
  assert.equal(!bad.ok && bad.ref, undefined, 'an over-long ref is not echoed');
});

test('a validation error names where in the frame it is, as a JSON pointer', () => {
  const extra = decodeFrame('{"type":"pub","room":"r","text":"t","extra":1}');
  assert.equal(!extra.ok && extra.message, 'pub frame: /extra must NOT have additional properties.');
  const missing = decodeFrame('{"type":"pub","room":"r"}');
  assert.equal(!missing.ok && missing.message, "pub frame: / must have required property 'text'.");
  const nested = decodeFrame('{"type":"sub","room":"r","since":-1}');
  assert.match(!nested.ok ? nested.message : '', /^sub frame: \/since /);
});

test('prototype keys do not pollute anything', () => {
  const d = decodeFrame('{"type":"ping","__proto__":{"polluted":1}}');
  assert.equal(d.ok, false);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('docs/frames.md is generated from the frame schemas and up to date', async () => {
  const { readFileSync } = await import('node:fs');
  const { renderFramesDoc } = await import('../../src/protocol/frames-doc.js');
  const doc = readFileSync(new URL('../../../docs/frames.md', import.meta.url), 'utf8');
  assert.equal(doc, `${renderFramesDoc()}\n`, 'run `npm run docs:frames`');
});
