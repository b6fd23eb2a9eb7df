import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashPassword, verifyPassword } from '../src/domain/identities/passwords/kdf.js';
import { PasswordChecker } from '../src/domain/identities/passwords/password-checker.js';
import { csrfTokenFor } from '../src/domain/identities/sessions/csrf.js';
import { isCsError } from '../src/lib/errors.js';

/** The same hash with one character of the derived key changed. */
function tamper(hash: string): string {
  const at = hash.length - 10;
  return `${hash.slice(0, at)}${hash[at] === 'A' ? 'B' : 'A'}${hash.slice(at + 1)}`;
}

describe('password hashing', () => {
  test("hashes with scrypt at OWASP's cost by default, the parameters written into the hash, and verifies", async () => {
    const hash = await hashPassword('correct horse battery staple', 17);
    assert.match(hash, /^scrypt\$17\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/, '16-byte salt, 64-byte key');
    assert.equal(await verifyPassword('correct horse battery staple', hash), true);
    assert.equal(await verifyPassword('correct horse battery stapler', hash), false);
  });

  test('a hash made at an older cost still verifies after the cost is raised', async () => {
    const old = await hashPassword('an older passphrase', 14);
    assert.equal(await verifyPassword('an older passphrase', old), true);
    assert.notEqual(old, await hashPassword('an older passphrase', 14), 'salted: the same password hashes differently');
  });

  test('the same password typed in another Unicode form verifies (NFKC)', async () => {
    const hash = await hashPassword('ﬁle café', 14);
    assert.equal(await verifyPassword('file cafe\u0301', hash), true);
  });

  test('a malformed or tampered stored hash verifies nothing', async () => {
    const hash = await hashPassword('secret passphrase', 14);
    for (const bad of ['', 'plain', hash.replace('scrypt$14', 'scrypt$40'), hash.replace('scrypt$', 'bcrypt$'), tamper(hash)]) {
      assert.equal(await verifyPassword('secret passphrase', bad), false, bad);
    }
  });

  test("a session's CSRF token follows from its token alone and differs between sessions", () => {
    assert.equal(csrfTokenFor('a'.repeat(43)), csrfTokenFor('a'.repeat(43)));
    assert.notEqual(csrfTokenFor('a'.repeat(43)), csrfTokenFor('b'.repeat(43)));
  });

  test('sign-in checks run two at a time, and past 64 waiting the next is refused as unavailable, not queued', async () => {
    // 2^10: the limiter is under test, not scrypt.
    const checker = new PasswordChecker(10);
    const hash = await hashPassword('right passphrase', 10);
    const accepted = Array.from({ length: 66 }, (_, i) => checker.verify(i === 0 ? 'right passphrase' : 'wrong', hash));
    const refused = await checker.verify('right passphrase', hash).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(isCsError(refused) && refused.code === 'unavailable', String(refused));
    const results = await Promise.all(accepted);
    assert.deepEqual([results[0], results.filter(Boolean).length], [true, 1]);
    assert.equal(await checker.verify('anything', null), false, 'no stored hash: checked against the dummy, never true');
    assert.equal(await checker.verify('right passphrase', hash), true, 'the queue drained');
  });
});
