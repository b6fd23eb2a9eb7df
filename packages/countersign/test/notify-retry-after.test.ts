/*
 * Retry-After as the channels read it (no database): the header's two forms, and what a handler throws
 * when some sends failed: a RetryLater with the longest wait any platform named, else a plain error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundedRetryAfter, MAX_RETRY_AFTER_MS, RetryLater } from '../src/events/consumers/retry-later.js';
import { deliveryError, failedSends, parseRetryAfter } from '../src/notify/delivery-errors.js';

const NOW = Date.parse('2026-12-07T03:00:00Z');

test('Retry-After in seconds is read as milliseconds; as an HTTP date, as the time left until it', () => {
  assert.equal(parseRetryAfter('30', NOW), 30_000);
  assert.equal(parseRetryAfter(' 0 ', NOW), 0);
  assert.equal(parseRetryAfter('Mon, 07 Dec 2026 03:00:45 GMT', NOW), 45_000);
  assert.equal(parseRetryAfter('Mon, 07 Dec 2026 02:59:00 GMT', NOW), 0, 'a date already past is no wait');
});

test('a missing or unreadable Retry-After is no Retry-After', () => {
  assert.equal(parseRetryAfter(null, NOW), null);
  assert.equal(parseRetryAfter('soon', NOW), null);
  assert.equal(parseRetryAfter('-5', NOW), null);
});

test('failed sends with a Retry-After become a RetryLater with the longest wait; without one, a plain error', () => {
  const limited = failedSends('Slack call(s)', [
    deliveryError('#C1: rate limited', 7_000),
    deliveryError('@U1: HTTP 500'),
    deliveryError('#C2: rate limited', 30_000),
  ]);
  assert.ok(limited instanceof RetryLater);
  assert.equal(limited.afterMs, 30_000);
  assert.match(limited.message, /^3 Slack call\(s\) failed: #C1: rate limited; @U1: HTTP 500; #C2: rate limited$/);
  const plain = failedSends('Teams notifications', [deliveryError('alice: 500')]);
  assert.ok(!(plain instanceof RetryLater));
  assert.equal(plain.message, '1 Teams notifications failed: alice: 500');
});

test('a wait is kept within five minutes and never negative', () => {
  assert.equal(boundedRetryAfter(86_400_000), MAX_RETRY_AFTER_MS);
  assert.equal(boundedRetryAfter(-1), 0);
  assert.equal(boundedRetryAfter(Number.NaN), 0);
  assert.equal(boundedRetryAfter(1_500.2), 1_501);
});
