import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { grantWords, untilWords } from '../src/pages/decide/grant-words.js';
import { diffJson } from '../src/pages/decide/json-diff.js';
import { lineColumn, parseArguments } from '../src/pages/decide/json-text.js';
import { commandOf, isTyping } from '../src/pages/decide/keys.js';

/** The logic behind deciding in full (src/pages/decide/): what the reviewer is told before they confirm. */

describe('the argument editor', () => {
  test('valid JSON objects parse; anything else says why and where, in lines and columns', () => {
    assert.deepEqual(parseArguments('{"env": "staging"}'), { ok: true, value: { env: 'staging' } });
    const broken = parseArguments('{\n  "env": "staging",\n  "count": 3,\n}');
    assert.equal(broken.ok, false);
    if (broken.ok) return;
    assert.match(broken.message, /^Not valid JSON/);
    assert.equal(broken.line, 4, broken.message);
    const list = parseArguments('[1, 2]');
    assert.deepEqual(list, { ok: false, message: 'The arguments must be a JSON object ({ … })', line: 1, column: 1 });
    assert.equal(parseArguments('null').ok, false);
  });

  test('line and column count from 1, across newlines', () => {
    assert.deepEqual(lineColumn('ab\ncd', 0), { line: 1, column: 1 });
    assert.deepEqual(lineColumn('ab\ncd', 4), { line: 2, column: 2 });
  });
});

describe('the diff of an edit', () => {
  test('each path is added, removed or changed, old to new, nested and in arrays', () => {
    const from = { env: 'production', replicas: 3, tags: ['a', 'b'], opts: { force: true, 'dry run': false } };
    const to = { env: 'staging', tags: ['a'], opts: { force: true, 'dry run': true }, note: 'x' };
    assert.deepEqual(diffJson(from, to), [
      { kind: 'changed', path: 'env', from: 'production', to: 'staging' },
      { kind: 'removed', path: 'replicas', from: 3 },
      { kind: 'removed', path: 'tags[1]', from: 'b' },
      { kind: 'changed', path: 'opts["dry run"]', from: false, to: true },
      { kind: 'added', path: 'note', to: 'x' },
    ]);
  });

  test('key order is not a change; a type change is one change at its path', () => {
    assert.deepEqual(diffJson({ a: 1, b: 2 }, { b: 2, a: 1 }), []);
    assert.deepEqual(diffJson({ a: { x: 1 } }, { a: [1] }), [{ kind: 'changed', path: 'a', from: { x: 1 }, to: [1] }]);
  });
});

describe('a standing grant in words', () => {
  const now = new Date(2026, 11, 6, 10, 0);
  test('what, by whom, how often and until when', () => {
    const words = grantWords(
      { tool: 'deploy', agent: 'deployer', session: null, constraints: { env: 'production' }, maxUses: 5, expiresInMs: 28.5 * 3_600_000 },
      now,
    );
    assert.equal(
      words,
      'deploy with env = "production" (other arguments free), by agent deployer, up to 5 times, until 14:30 tomorrow, without asking anyone again',
    );
    assert.match(
      grantWords({ tool: 't', agent: 'a', session: 's-1', constraints: {}, maxUses: 1, expiresInMs: 3_600_000 }, now),
      /^t with any arguments, by agent a in session s-1, once, until 11:00 today,/,
    );
  });

  test('a day further away is named by its date', () => {
    assert.equal(untilWords(new Date(2026, 11, 13, 9, 5), now), '09:05 on 13 Dec');
    assert.equal(untilWords(new Date(2027, 0, 2, 9, 5), now), '09:05 on 2 Jan 2027');
  });
});

describe('keyboard shortcuts', () => {
  const key = (k: string, target: { tagName?: string; type?: string } | null = { tagName: 'BODY' }, mods = {}) =>
    commandOf({ key: k, ctrlKey: false, metaKey: false, altKey: false, target, ...mods });
  test('j, k, Enter, a, d, e and ? are commands on the page', () => {
    assert.deepEqual(
      ['j', 'k', 'Enter', 'a', 'd', 'e', '?', 'x'].map((k) => key(k)),
      ['next', 'previous', 'open', 'approve', 'deny', 'edit', 'help', null],
    );
  });

  test('never while typing, never with a modifier, and Enter on a link or button is theirs', () => {
    assert.equal(key('a', { tagName: 'TEXTAREA' }), null);
    assert.equal(key('a', { tagName: 'INPUT', type: 'text' }), null);
    assert.equal(key('j', { tagName: 'SELECT' }), null);
    assert.equal(key('a', { tagName: 'INPUT', type: 'checkbox' }), 'approve');
    assert.equal(key('a', { tagName: 'BODY' }, { ctrlKey: true }), null);
    assert.equal(key('Enter', { tagName: 'A' }), null);
    assert.equal(key('Enter', { tagName: 'BUTTON' }), null);
    assert.equal(isTyping({ tagName: 'DIV', isContentEditable: true }), true);
  });
});
