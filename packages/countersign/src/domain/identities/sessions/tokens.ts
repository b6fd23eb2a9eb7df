import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Secrets handed to a browser or put in a link (session tokens, setup and reset links): 32 random bytes,
 * base64url. Only sha256 is stored: with 256 bits of entropy a slow hash adds nothing, and the hash is
 * looked up by equality on an indexed column, so the comparison leaks nothing useful about the secret.
 */
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isTokenShaped(value: string): boolean {
  return TOKEN_RE.test(value);
}

/** Equal-length constant-time comparison of two strings (CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
