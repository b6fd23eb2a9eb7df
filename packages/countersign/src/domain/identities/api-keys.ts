import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Key format: `cs_<prefix>_<secret>`. The prefix (12 hex chars) is public and
 * indexed for lookup; the secret is 32 random bytes. Only sha256(secret) is
 * stored: with 256 bits of entropy a slow password hash adds nothing but
 * latency on every request.
 */
const KEY_RE = /^cs_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewKey {
  /** The full key; shown once, never stored. */
  key: string;
  prefix: string;
  secretHash: string;
}

export function generateKey(): NewKey {
  const prefix = `cs_${randomBytes(6).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  return { key: `${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) };
}

export function parseKey(key: string): { prefix: string; secret: string } | null {
  const m = KEY_RE.exec(key);
  if (!m?.[1] || !m[2]) return null;
  return { prefix: `cs_${m[1]}`, secret: m[2] };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Accepts `cs_abc…`, the bare 12 hex chars, or a whole key, and returns the stored prefix form. */
export function normalizePrefix(input: string): string | null {
  const whole = parseKey(input);
  if (whole) return whole.prefix;
  const m = /^(?:cs_)?([0-9a-f]{12})$/.exec(input.trim());
  return m?.[1] ? `cs_${m[1]}` : null;
}
