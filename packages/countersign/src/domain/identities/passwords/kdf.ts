import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with scrypt from node:crypto (no native add-on to build): OWASP's parameters by
 * default (N=2^17, r=8, p=1, 64-byte key, 16-byte salt). The encoding carries the parameters
 * (`scrypt$logN$r$p$salt$hash`, base64url), so raising the cost later leaves old hashes verifiable.
 * scrypt runs on libuv's thread pool, so a sign-in never blocks the event loop.
 */
const R = 8;
const P = 1;
const KEY_BYTES = 64;
const SALT_BYTES = 16;
const ENCODED_RE = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number, bytes: number): Promise<Buffer> {
  const N = 2 ** logN;
  // Node refuses above 32 MiB by default; scrypt needs 128·N·r bytes (128 MiB at OWASP's N), plus slack.
  const opts: ScryptOptions = { N, r, p, maxmem: 128 * N * r * 2 };
  return new Promise((resolve, reject) => {
    scrypt(normalize(password), salt, bytes, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** NFKC, as NIST SP 800-63B asks, so the same password typed on two keyboards hashes the same. */
function normalize(password: string): string {
  return password.normalize('NFKC');
}

export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, logN, R, P, KEY_BYTES);
  return `scrypt$${logN}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time once derived; a malformed stored hash verifies nothing. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = ENCODED_RE.exec(encoded);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 10 || logN > 22 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(m[5] as string, 'base64url');
  const key = await derive(password, Buffer.from(m[4] as string, 'base64url'), logN, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/**
 * A hash of no one's password at the configured cost: an unknown email is checked against it, so a
 * sign-in takes as long whether or not the account exists.
 */
export class DummyHash {
  private hash: Promise<string> | undefined;
  constructor(private readonly logN: number) {}
  get(): Promise<string> {
    this.hash ??= hashPassword(randomBytes(16).toString('base64url'), this.logN);
    return this.hash;
  }
  /** Whether it has been asked for (computed or computing). */
  get started(): boolean {
    return this.hash !== undefined;
  }
}
