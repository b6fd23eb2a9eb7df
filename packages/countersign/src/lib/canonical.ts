import { createHash } from 'node:crypto';
import canonicalizeImpl from 'canonicalize';

// The package ships a CJS default export whose typing differs between resolutions.
const canonicalizeFn = canonicalizeImpl as unknown as (value: unknown) => string | undefined;

/** RFC 8785 (JCS) canonical JSON: the exact bytes that hashes and signatures cover. */
export function canonicalJson(value: unknown): string {
  const out = canonicalizeFn(value);
  if (out === undefined) throw new TypeError('value cannot be canonicalized');
  return out;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
