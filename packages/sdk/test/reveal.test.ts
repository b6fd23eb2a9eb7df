import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { editableJson, flaggedPaths, flagsOf, reveal } from '../src/reveal.js';

/** What the console and the notifications make visible in agent-written text (src/reveal.ts), character class by class. */

const markers = (s: string) =>
  reveal(s)
    .map((seg) => (seg.kind === 'hidden' ? seg.label : seg.kind === 'suspicious' ? `[${seg.text}]` : seg.text))
    .join('');

describe('revealing hidden characters', () => {
  test('bidirectional controls are shown as markers and flagged bidi', () => {
    assert.equal(markers('invoice\u202Efdp.exe'), 'invoice⟦U+202E⟧fdp.exe');
    assert.equal(markers('a\u2066b\u2069c\u200Fd\u061Ce'), 'a⟦U+2066⟧b⟦U+2069⟧c⟦U+200F⟧d⟦U+061C⟧e');
    assert.deepEqual([...flagsOf('x\u202Dy')], ['bidi']);
  });

  test('zero-width, joiners, BOM, soft hyphen, variation selectors and tag characters are invisible ones', () => {
    assert.equal(markers('rm\u200B -rf'), 'rm⟦U+200B⟧ -rf');
    assert.equal(markers('a\u200Cb\u200Dc\u2060d\uFEFFe\u00ADf\uFE0Fg'), 'a⟦U+200C⟧b⟦U+200D⟧c⟦U+2060⟧d⟦U+FEFF⟧e⟦U+00AD⟧f⟦U+FE0F⟧g');
    // Tag characters are astral: one marker per character, not per UTF-16 unit.
    assert.equal(markers('ok\u{E0041}\u{E0042}'), 'ok⟦U+E0041⟧⟦U+E0042⟧');
    assert.deepEqual([...flagsOf('a\u200Bb')], ['invisible']);
  });

  test('control characters are shown; newlines and tabs lay text out and are left alone', () => {
    assert.equal(markers('bell\u0007 esc\u001B[31m del\u007F c1\u0085'), 'bell⟦U+0007⟧ esc⟦U+001B⟧[31m del⟦U+007F⟧ c1⟦U+0085⟧');
    assert.deepEqual([...flagsOf('a\u0000b')], ['control']);
    assert.deepEqual([...flagsOf('line one\nline two\tcolumn\r\n')], []);
  });

  test('a word mixing Latin with Cyrillic or Greek letters is marked; a word in one script is not', () => {
    assert.equal(markers('go to pаypal.com now'), 'go to [pаypal].com now');
    assert.deepEqual([...flagsOf('Αpple')], ['mixed-script']);
    for (const clean of ['привет мир', 'καλημέρα', 'crème brûlée naïve', '日本語のテキスト', 'Grüße, Zoë', 'مرحبا']) {
      assert.deepEqual([...flagsOf(clean)], [], clean);
      assert.equal(markers(clean), clean);
    }
  });

  test('several kinds in one string raise every flag, and plain text is returned unchanged', () => {
    assert.deepEqual(new Set(flagsOf('p\u0430y\u202E\u200B\u0001')), new Set(['bidi', 'invisible', 'control', 'mixed-script']));
    const plain = '<script>alert(1)</script> javascript:alert(1)';
    assert.deepEqual(reveal(plain), [{ kind: 'text', text: plain }]);
  });

  test('every string of a JSON value is scanned, keys included, and reported by path', () => {
    const found = flaggedPaths({ a: 'ok', b: ['fine', 'x\u202Ey'], 'k\u200By': 1, c: { d: 'pаypal' } }, 'arguments');
    assert.deepEqual(
      found.map((f) => [f.path, [...f.flags]]),
      [
        ['arguments.b[1]', ['bidi']],
        ['arguments (a key)', ['invisible']],
        ['arguments.c.d', ['mixed-script']],
      ],
    );
  });

  test('a control hidden at the end of a 1 MB string is still found', () => {
    assert.deepEqual([...flagsOf(`${'A'.repeat(1_000_000)}\u202E`)], ['bidi']);
  });
});

describe('arguments as text to edit', () => {
  test('hidden characters are written as escapes the editor shows, and the text parses back to the same value', () => {
    const value = {
      env: 'prod\u202Euction',
      'key\u200B': ['tab\there', 'tag \u{E0041}', 'del\u007f'],
      plain: { n: 2, ok: true, nothing: null },
    };
    const text = editableJson(value);
    assert.deepEqual(JSON.parse(text), value);
    assert.equal(flagsOf(text).size, 0, 'nothing hidden is left in the text');
    assert.match(text, /"prod\\u202euction"/);
    assert.match(text, /"key\\u200b"/);
    assert.match(text, /"tag \\udb40\\udc41"/);
    assert.match(text, /"tab\\there"/);
    assert.equal(editableJson({ a: 'plain' }), JSON.stringify({ a: 'plain' }, null, 2));
  });
});
