import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsError } from '../src/lib/errors.js';
import { assertStorableStrings } from '../src/lib/strict-json.js';

/**
 * Every request's query string, path and headers pass assertStorableStrings; the clean case takes a walk
 * that names no paths, so these check that it still lets nothing unstorable through, keys included.
 */

function refusal(value: unknown, opts?: { nul: boolean }): CsError {
  try {
    assertStorableStrings(value, 'headers', opts);
  } catch (e) {
    assert.ok(e instanceof CsError);
    return e;
  }
  assert.fail('expected a refusal');
}

test('ordinary headers pass', () => {
  assertStorableStrings({ host: 'gw.example', 'content-type': 'application/json', 'x-list': ['a', 'b'] }, 'headers');
});

test('a NUL in a value or in a key is refused, with its path', () => {
  assert.equal(refusal({ a: 'x\u0000y' }).issues?.[0]?.path, 'a');
  assert.equal(refusal({ list: ['ok', 'x\u0000'] }).issues?.[0]?.path, 'list.1');
  assert.equal(refusal({ 'k\u0000': 'v' }).issues?.[0]?.path, 'k\u0000');
});

test('without the NUL check a NUL passes, but a lone surrogate in a value or key still does not', () => {
  assertStorableStrings({ id: 'x\u0000' }, 'path', { nul: false });
  assert.equal(refusal({ id: 'x\ud800' }, { nul: false }).code, 'invalid_request');
  assert.equal(refusal({ 'x\udc00': 'v' }, { nul: false }).code, 'invalid_request');
});
