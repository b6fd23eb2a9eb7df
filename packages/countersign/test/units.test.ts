import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTION_PHASES, isDecided, nextPhase, TRANSITIONS } from '../src/domain/actions/status.js';
import { canonicalAuditEntry } from '../src/domain/audit/chain.js';
import { generateKey, normalizePrefix, parseKey, secretMatches } from '../src/domain/identities/api-keys.js';
import { canonicalJson } from '../src/lib/canonical.js';
import { FakeClock } from '../src/lib/clock.js';
import { parseDuration } from '../src/lib/duration.js';
import { jsonDepth } from '../src/lib/json-shape.js';

test('only pending actions can be approved, denied or cancelled; pending and unredeemed approved ones can expire', () => {
  for (const s of ACTION_PHASES) {
    for (const t of ['approve', 'deny', 'cancel'] as const) {
      assert.equal(nextPhase(s, t) !== null, s === 'pending', `${s} --${t}`);
    }
    assert.equal(nextPhase(s, 'expire'), s === 'pending' || s === 'approved' ? 'expired' : null, `${s} --expire`);
  }
});

test('only an approval is redeemed, once, and only a redeemed one takes a result', () => {
  for (const s of ACTION_PHASES) assert.equal(nextPhase(s, 'redeem'), s === 'approved' ? 'redeemed' : null, `${s} --redeem`);
  assert.equal(nextPhase('approved', 'succeed'), null, 'a result for an approval that was never redeemed');
  assert.equal(nextPhase('approved', 'fail'), null);
  assert.equal(nextPhase('redeemed', 'succeed'), 'executed');
  assert.equal(nextPhase('redeemed', 'fail'), 'failed');
});

test('every terminal phase stays terminal', () => {
  for (const s of ['denied', 'expired', 'cancelled', 'executed', 'failed'] as const) {
    for (const t of TRANSITIONS) assert.equal(nextPhase(s, t), null, `${s} --${t}`);
  }
  assert.equal(isDecided('pending'), false);
  assert.equal(isDecided('denied'), true);
});

test('the hand-built canonical audit entry equals RFC 8785 canonical JSON of the same entry', () => {
  const entries = [
    {
      seq: 1,
      ts: 1767225600000,
      actor_type: 'agent',
      actor_id: 'a"b\\c',
      event: 'action.created',
      action_id: null,
      data: { z: 1, a: ['é', '\u2028', 1e21, 0.1] },
    },
    { seq: 99, ts: 0, actor_type: 'system', actor_id: null, event: 'x\ny', action_id: '01a1', data: {} },
  ];
  for (const e of entries) {
    const fields = { ...e, data: canonicalJson(e.data) };
    assert.equal(canonicalAuditEntry(fields), canonicalJson(e));
  }
});

test('API keys are prefixed, parse back, and only their own secret matches', () => {
  const k = generateKey();
  assert.match(k.key, /^cs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  const parsed = parseKey(k.key);
  assert.ok(parsed);
  assert.equal(parsed.prefix, k.prefix);
  assert.equal(secretMatches(parsed.secret, k.secretHash), true);
  // Change the last character to one it is not, so the wrong secret is always wrong.
  const last = parsed.secret.endsWith('A') ? 'B' : 'A';
  assert.equal(secretMatches(`${parsed.secret.slice(0, -1)}${last}`, k.secretHash), false);
  assert.equal(parseKey(`${k.key}x`), null);
  assert.equal(normalizePrefix(k.prefix.slice(3)), k.prefix);
  assert.equal(normalizePrefix(k.key), k.prefix);
  assert.equal(normalizePrefix('cs_nothex'), null);
});

test('json depth counts nesting levels and stops early on hostile input', () => {
  assert.equal(jsonDepth(1), 0);
  assert.equal(jsonDepth({}), 1);
  assert.equal(jsonDepth({ a: [{ b: {} }] }), 4);
  let deep: unknown = {};
  for (let i = 0; i < 100_000; i++) deep = { d: deep };
  assert.equal(jsonDepth(deep, 32), 33);
});

test('durations parse from text, including compounds, and reject nonsense', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('1 hour'), undefined);
  assert.equal(parseDuration(''), undefined);
});

test('the fake clock fires timers in deadline order only when advanced', async () => {
  const clock = new FakeClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 200);
  clock.setTimeout(() => fired.push('a'), 100);
  const c = clock.setTimeout(() => fired.push('cancelled'), 150);
  c.cancel();
  await clock.advance(99);
  assert.deepEqual(fired, []);
  await clock.advance(101);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(clock.now(), 200);
});
