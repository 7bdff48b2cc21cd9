// The error table is a public contract: codes are stable, unique, documented, and only grow.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS, PorthouseError } from '../../src/core/errors.js';

const codes = Object.keys(ERRORS);

test('has exactly the pinned number of codes (a new code is a deliberate, documented change)', () => {
  assert.equal(codes.length, 39);
});

test('every code is snake_case with an HTTP error status and a title', () => {
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.match(code, /^[a-z]+(_[a-z]+)*$/);
    assert.ok(spec.status >= 400 && spec.status < 600, code);
    assert.ok(spec.title.length > 0, code);
  }
});

test('close codes are unique per meaning and in the documented ranges', () => {
  for (const [code, spec] of Object.entries(ERRORS) as [string, { close?: number }][]) {
    if (spec.close === undefined) continue;
    assert.ok([1001, 1009, 1011].includes(spec.close) || (spec.close >= 4000 && spec.close <= 4999), code);
  }
});

test('every code is documented in docs/protocol.md with its status', () => {
  const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  for (const [code, spec] of Object.entries(ERRORS)) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    assert.ok(row, `docs/protocol.md has no row for ${code}`);
    assert.ok(row.includes(`| ${spec.status} |`), `docs/protocol.md gives ${code} another status`);
  }
});

test('a PorthouseError carries its code, status and a default message', () => {
  const err = new PorthouseError('room_not_found');
  assert.equal(err.status, 404);
  assert.equal(err.message, ERRORS.room_not_found.title);
  assert.equal(new PorthouseError('rate_limited', 'wait', { retryAfter: 3 }).retryAfter, 3);
});
