/*
 * A receipt is stored as the bytes its three base64url segments encode (domain/receipts/stored-receipt.ts),
 * and read back as its text. For every compact JWS whose segments are canonical base64url (what our signer
 * writes), reading back what was stored gives the same text, character for character; a segment that is not
 * canonical (padding, a character outside the alphabet, stray low bits in its last character) is refused,
 * so nothing that would read back differently is ever stored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { receiptBodyOf, receiptFromBody } from '../src/domain/receipts/stored-receipt.js';
import { CsError } from '../src/lib/errors.js';

const segmentOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
/** A canonical segment: any bytes, base64url-encoded without padding (an empty segment included). */
const canonicalSegment = fc.uint8Array({ maxLength: 700 }).map(segmentOf);
/** A compact JWS's shape: three canonical segments joined by dots. */
const compactJws = fc.tuple(canonicalSegment, canonicalSegment, canonicalSegment).map((s) => s.join('.'));

const refusedAsInternal = (text: string) =>
  assert.throws(
    () => receiptBodyOf(text),
    (e: unknown) => e instanceof CsError && e.code === 'internal',
    text,
  );

test('a compact JWS of canonical segments reads back from its stored bytes as exactly its text', () => {
  fc.assert(
    fc.property(compactJws, (text) => {
      assert.equal(receiptFromBody(receiptBodyOf(text)), text);
    }),
    { numRuns: 500 },
  );
});

test('the stored bytes are the segments decoded and a 6-byte frame, so about three quarters of the text', () => {
  fc.assert(
    fc.property(compactJws, (text) => {
      const decoded = text.split('.').reduce((n, s) => n + Buffer.from(s, 'base64url').length, 0);
      assert.equal(receiptBodyOf(text).length, decoded + 6);
    }),
  );
});

test('the PostgreSQL pool’s hex form of the stored bytes reads back as the same text', () => {
  fc.assert(
    fc.property(compactJws, (text) => {
      assert.equal(receiptFromBody(receiptBodyOf(text).toString('hex')), text);
    }),
  );
});

test('a segment that is not canonical base64url is refused, whichever of the three it is', () => {
  // A segment of 2 or 3 characters' remainder whose last character carries bits the bytes do not have.
  const strayBits = fc
    .uint8Array({ minLength: 1, maxLength: 40 })
    .filter((b) => b.length % 3 !== 0)
    .map((b) => {
      const s = segmentOf(b);
      const last = s.at(-1) as string;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      return `${s.slice(0, -1)}${alphabet[alphabet.indexOf(last) + 1]}`;
    });
  // Standard base64 of a length not a multiple of 3: it ends in '=' padding.
  const padded = fc
    .uint8Array({ minLength: 1, maxLength: 40 })
    .filter((b) => b.length % 3 !== 0)
    .map((b) => Buffer.from(b).toString('base64'));
  const foreign = fc.tuple(canonicalSegment, fc.constantFrom('+', '/', '=', ' ', '\n', '~', 'é')).map(([s, c]) => `${s}${c}`);
  const bad = fc.oneof(strayBits, padded, foreign);
  fc.assert(
    fc.property(bad, canonicalSegment, canonicalSegment, fc.nat(2), (wrong, a, b, at) => {
      const segments = [a, b];
      segments.splice(at, 0, wrong);
      refusedAsInternal(segments.join('.'));
    }),
  );
});

test('a text that is not three segments is refused', () => {
  for (const text of ['', 'abc', 'a.b', 'a.b.c.d', 'eyJ.eyJ']) refusedAsInternal(text);
});
