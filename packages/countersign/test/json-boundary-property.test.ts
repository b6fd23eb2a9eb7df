import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../src/lib/canonical.js';
import { call, forEachDialect, type World, world } from './helpers.js';

/** A JSON text and whether it holds a value that cannot be stored exactly (worked out as it is generated). */
interface Doc {
  text: string;
  poisoned: boolean;
}

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const hex4 = (c: number) => `\\u${c.toString(16).padStart(4, '0')}`;

/** Any UTF-16 code unit, lone surrogates included and favoured, so well-formed and ill-formed strings both come up. */
const codeUnit = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0x1f, 0x22, 0x5c, 0x2028, 0xfeff) },
);

/** A string written the way JSON.stringify writes it, or with some or every code unit as a \uXXXX escape. */
const jsonString = fc
  .tuple(fc.array(codeUnit, { maxLength: 12 }), fc.constantFrom('stringify', 'escape-all', 'escape-some'), fc.nat())
  .map(([units, style, salt]): Doc & { value: string } => {
    const value = String.fromCharCode(...units);
    let text: string;
    if (style === 'stringify') text = JSON.stringify(value);
    else
      text = `"${units.map((u, i) => (style === 'escape-all' || (salt >> (i % 30)) & 1 || u < 0x20 || u === 0x22 || u === 0x5c || (u >= 0xd800 && u <= 0xdfff) ? hex4(u) : String.fromCharCode(u))).join('')}"`;
    return { text, value, poisoned: !isWellFormed(value) };
  });

const integerLiteral = (digits: string) => ({ text: digits, poisoned: !Number.isSafeInteger(Number(digits)) });

/** Number literals: safe and unsafe integers, doubles in every notation, and ones that overflow. */
const jsonNumber: fc.Arbitrary<Doc> = fc.oneof(
  fc.maxSafeInteger().map((n) => integerLiteral(String(n))),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((b) => integerLiteral(String(b))),
  fc
    .constantFrom('9007199254740991', '-9007199254740991', '9007199254740992', '-9007199254740993', '18446744073709551617')
    .map(integerLiteral),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => {
    const text = JSON.stringify(d);
    return /[.eE]/.test(text) ? { text, poisoned: false } : integerLiteral(text);
  }),
  fc
    .tuple(fc.integer({ min: -99999, max: 99999 }), fc.nat(999), fc.integer({ min: -420, max: 420 }), fc.constantFrom('e', 'E', 'e+'))
    .map(([m, f, e, mark]) => {
      const text = `${m}.${f}${mark}${e}`.replace('e+-', 'e-');
      return { text, poisoned: !Number.isFinite(Number(text)) };
    }),
);

const scalar: fc.Arbitrary<Doc> = fc.oneof(
  jsonNumber,
  jsonString,
  fc.constantFrom('true', 'false', 'null').map((text) => ({ text, poisoned: false })),
);

/** Object keys never collide (JSON.parse would keep the last) and never touch the prototype (refused on their own). */
const key = jsonString.filter((k) => k.value !== '__proto__' && k.value !== 'constructor');

const jsonDoc = fc.letrec<{ doc: Doc; arr: Doc; obj: Doc }>((tie) => ({
  doc: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('arr'), tie('obj')),
  arr: fc.array(tie('doc'), { maxLength: 4 }).map((items) => ({
    text: `[${items.map((d) => d.text).join(',')}]`,
    poisoned: items.some((d) => d.poisoned),
  })),
  obj: fc.uniqueArray(fc.tuple(key, tie('doc')), { maxLength: 4, selector: ([k]) => k.value }).map((entries) => ({
    text: `{${entries.map(([k, v]) => `${k.text}:${v.text}`).join(',')}}`,
    poisoned: entries.some(([k, v]) => k.poisoned || v.poisoned),
  })),
})).doc;

/** Also deep documents: a generated one under up to 20 more array levels (arguments may nest 32 deep). */
const anyDoc = fc.oneof(
  { weight: 4, arbitrary: jsonDoc },
  {
    weight: 1,
    arbitrary: fc
      .tuple(jsonDoc, fc.integer({ min: 1, max: 20 }))
      .map(([d, k]) => ({ text: `${'['.repeat(k)}${d.text}${']'.repeat(k)}`, poisoned: d.poisoned })),
  },
);

forEachDialect('the JSON boundary, for any JSON text', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect);
  });
  after(async () => w.close());

  test('any JSON text the parser accepts is either stored and read back canonically identical, or refused with a 400; never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(anyDoc, async (doc) => {
        const expected = JSON.parse(doc.text);
        const res = await call(w, 'POST', '/v1/actions', w.keys.agent, `{"tool":"deploy","arguments":{"v":${doc.text}}}`, {
          'content-type': 'application/json',
        });
        if (doc.poisoned) {
          assert.equal(res.status, 400, `refused: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.code, 'invalid_request');
          assert.ok(
            res.body.error.issues.every((i: { path: string }) => i.path === 'arguments.v' || i.path.startsWith('arguments.v.')),
            'the issues point into the value',
          );
          return;
        }
        assert.equal(res.status, 201, `stored: ${JSON.stringify(res.body)}`);
        assert.equal(canonicalJson(res.body.arguments.v), canonicalJson(expected), 'answered exactly');
        const back = await call(w, 'GET', `/v1/actions/${res.body.id}`, w.keys.agent);
        assert.equal(canonicalJson(back.body.arguments.v), canonicalJson(expected), 'read back exactly');
      }),
      { numRuns: dialect === 'sqlite' ? 1000 : 300 },
    );
  });
});
