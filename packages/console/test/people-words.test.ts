import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ago, deviceOf, fromNow, grantStateText, localToIso, parseGroups, usesText } from '../src/pages/people/words.js';

/** The words the Account and Administration pages use for times, devices and grants (src/pages/people/words.ts). */

const NOW = Date.parse('2026-12-06T12:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();

describe('times in words', () => {
  test('under a minute either way is "just now"; beyond, the largest unit, rounded', () => {
    assert.equal(fromNow(at(-30_000), NOW), 'just now');
    assert.equal(fromNow(at(45_000), NOW), 'just now');
    assert.equal(fromNow(at(-5 * 60_000), NOW), '5 minutes ago');
    assert.equal(fromNow(at(2 * 3600_000 - 1000), NOW), 'in 2 hours');
    assert.equal(fromNow(at(-24 * 3600_000), NOW), 'yesterday');
    assert.equal(fromNow(at(3 * 24 * 3600_000), NOW), 'in 3 days');
    assert.equal(fromNow(at(-14 * 24 * 3600_000), NOW), '2 weeks ago');
  });

  test('what already happened is never "in the future", whatever the clocks say', () => {
    assert.equal(ago(at(3 * 60_000), NOW), 'just now');
    assert.equal(ago(at(-3 * 60_000), NOW), '3 minutes ago');
  });

  test('a value that is not a time is shown as it is', () => {
    assert.equal(fromNow('soon', NOW), 'soon');
  });

  test('an empty or invalid datetime-local value is no time at all', () => {
    assert.equal(localToIso(''), undefined);
    assert.equal(localToIso('not a date'), undefined);
    assert.match(localToIso('2026-12-24T09:30') ?? '', /^2026-12-2[345]T\d\d:30:00\.000Z$/);
  });
});

describe('devices in words', () => {
  test('common browsers and systems are named; others are said to be unknown', () => {
    const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    const edge = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0';
    const safari =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';
    const firefox = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0';
    assert.equal(deviceOf(chrome), 'Chrome on Linux');
    assert.equal(deviceOf(edge), 'Edge on Windows');
    assert.equal(deviceOf(safari), 'Safari on iOS');
    assert.equal(deviceOf(firefox), 'Firefox on macOS');
    assert.equal(deviceOf('curl/8.5.0'), 'curl');
    assert.equal(deviceOf(null), 'An unknown device');
    assert.equal(deviceOf('my-script/1.0'), 'Another program');
  });
});

describe('grants and groups in words', () => {
  test('uses are counted against the limit, or said to have none', () => {
    assert.equal(usesText(0, 3), '0 of 3 uses');
    assert.equal(usesText(1, 1), '1 of 1 use');
    assert.equal(usesText(1, null), '1 use, no limit');
    assert.equal(usesText(4, null), '4 uses, no limit');
  });

  test('a grant is revoked (by whom), used up, expired or expiring, in that order', () => {
    const g = { expires_at: at(3600_000), revoked_at: null, revoked_by: null, uses: 0, max_uses: 2 };
    assert.equal(grantStateText(g, NOW), 'expires in 1 hour');
    assert.equal(grantStateText({ ...g, expires_at: at(-2 * 24 * 3600_000) }, NOW), 'expired 2 days ago');
    assert.equal(grantStateText({ ...g, uses: 2 }, NOW), 'used up');
    assert.equal(
      grantStateText({ ...g, uses: 2, revoked_at: at(-3600_000), revoked_by: 'ada@example.com' }, NOW),
      'revoked 1 hour ago by ada@example.com',
    );
  });

  test('groups typed with commas are trimmed, without empties or repeats', () => {
    assert.deepEqual(parseGroups(' sre, on-call ,,sre, '), ['sre', 'on-call']);
    assert.deepEqual(parseGroups(''), []);
  });
});
