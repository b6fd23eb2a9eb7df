import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * Audit checkpoints as signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint):
 *
 *   <origin>\n<size>\n<base64 of the 32-byte head hash>\n
 *   \n
 *   — <origin>/<kid> <base64(4-byte key ID ‖ 64-byte Ed25519 signature)>\n
 *
 * The key name carries the JWKS `kid` (the key's RFC 7638 thumbprint) after
 * the origin, so a verifier holding only the JWKS finds the key by name; the
 * spec forbids "+" in key names, hence "/". The key ID is the one the spec
 * recommends, SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], so any
 * signed-note verifier (e.g. Go's golang.org/x/mod/sumdb/note) accepts the
 * signature given the verifier key `<origin>/<kid>+<hex key ID>+<base64(0x01 ‖ key)>`.
 * The head hash is the hash chain's head, not an RFC 6962 Merkle root: a log
 * consistency check is replaying the chain, which `audit verify` does.
 */

const ED25519 = 0x01;
const EM_DASH = '\u2014';
const MAX_SIGNATURES = 16;

/** Origin and key names: non-empty, no (Unicode) spaces, plus signs or control characters (signed-note rules). */
const NAME_RE = /^[^\s+\p{Cc}]+$/u;

export function isValidOrigin(origin: string): boolean {
  return NAME_RE.test(origin);
}

export function checkpointKeyName(origin: string, kid: string): string {
  return `${origin}/${kid}`;
}

export function noteKeyId(keyName: string, rawPublicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(keyName, 'utf8'), Buffer.from([0x0a, ED25519]), rawPublicKey]))
    .digest()
    .subarray(0, 4);
}

export function checkpointText(origin: string, size: number, headHashHex: string): string {
  return `${origin}\n${size}\n${Buffer.from(headHashHex, 'hex').toString('base64')}\n`;
}

/** What signs: the keyring's active key (kept structural so tests and benches can bring their own). */
export interface NoteSigner {
  readonly active: { readonly kid: string; readonly publicJwk: { readonly x: string } };
  sign(data: Buffer): Buffer;
}

export function signCheckpoint(signer: NoteSigner, origin: string, size: number, headHashHex: string): string {
  const text = checkpointText(origin, size, headHashHex);
  const name = checkpointKeyName(origin, signer.active.kid);
  const keyId = noteKeyId(name, Buffer.from(signer.active.publicJwk.x, 'base64url'));
  const signature = signer.sign(Buffer.from(text, 'utf8'));
  return `${text}\n${EM_DASH} ${name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
}

export interface ParsedCheckpoint {
  /** The signed text (body, final newline included). */
  text: string;
  origin: string;
  size: number;
  /** Hex, as the chain stores hashes. */
  headHash: string;
  signatures: NoteSignature[];
}

export class NoteFormatError extends Error {}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function strictBase64(s: string): Buffer | null {
  if (!B64_RE.test(s) || s.length % 4 !== 0) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null;
}

/** Parses a checkpoint note; throws NoteFormatError saying what is wrong. */
export function parseCheckpoint(note: string): ParsedCheckpoint {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the format forbids them
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new NoteFormatError('the note contains control characters');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteFormatError('no blank line between the text and the signatures');
  const text = note.slice(0, split + 1);
  const sigBlock = note.slice(split + 2);
  if (!sigBlock.endsWith('\n')) throw new NoteFormatError('the signature lines must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeLine, hashLine] = lines;
  if (!origin || sizeLine === undefined || hashLine === undefined) throw new NoteFormatError('the text needs origin, size and hash lines');
  if (!/^(0|[1-9]\d{0,15})$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    throw new NoteFormatError(`"${sizeLine}" is not a tree size`);
  }
  const hash = strictBase64(hashLine);
  if (hash?.length !== 32) throw new NoteFormatError('the third line is not a base64 SHA-256 hash');
  if (lines.slice(3).some((l) => l === '')) throw new NoteFormatError('extension lines must not be empty');
  const signatures: NoteSignature[] = [];
  for (const line of sigBlock.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    const raw = m?.[2] === undefined ? null : strictBase64(m[2]);
    if (!m?.[1] || !raw || raw.length < 5) throw new NoteFormatError(`malformed signature line "${line.slice(0, 120)}"`);
    signatures.push({ name: m[1], keyId: raw.subarray(0, 4), signature: raw.subarray(4) });
    if (signatures.length > MAX_SIGNATURES) throw new NoteFormatError('too many signatures');
  }
  return { text, origin, size: Number(sizeLine), headHash: hash.toString('hex'), signatures };
}

export interface PublicKeySet {
  keys: readonly unknown[];
}

export interface VerifiedCheckpoint {
  origin: string;
  size: number;
  headHash: string;
  kid: string;
}

export type CheckpointCheck = { ok: true; checkpoint: VerifiedCheckpoint } | { ok: false; size: number | null; problem: string };

interface Ed25519Jwk {
  kid: string;
  x: string;
}

function ed25519Keys(jwks: PublicKeySet): Map<string, Ed25519Jwk> {
  const out = new Map<string, Ed25519Jwk>();
  for (const k of jwks.keys) {
    const j = k as Partial<Record<string, unknown>>;
    if (j.kty === 'OKP' && j.crv === 'Ed25519' && typeof j.kid === 'string' && typeof j.x === 'string')
      out.set(j.kid, { kid: j.kid, x: j.x });
  }
  return out;
}

/**
 * Checks a checkpoint against a set of trusted public keys. Following the
 * signed-note rules, signatures by other keys (a witness's cosignature, say)
 * are ignored, a known key whose signature fails rejects the note, and a
 * note with no verifying signature from a known key is rejected.
 */
export class CheckpointVerifier {
  private readonly keys: Map<string, Ed25519Jwk>;
  private readonly keyObjects = new Map<string, KeyObject>();

  constructor(jwks: PublicKeySet) {
    this.keys = ed25519Keys(jwks);
  }

  check(note: string): CheckpointCheck {
    let parsed: ParsedCheckpoint;
    try {
      parsed = parseCheckpoint(note);
    } catch (e) {
      return { ok: false, size: null, problem: `malformed checkpoint: ${(e as Error).message}` };
    }
    const fail = (problem: string): CheckpointCheck => ({ ok: false, size: parsed.size, problem });
    const prefix = `${parsed.origin}/`;
    let verifiedKid: string | null = null;
    let unknown: string | null = null;
    for (const sig of parsed.signatures) {
      if (!sig.name.startsWith(prefix)) continue;
      const kid = sig.name.slice(prefix.length);
      const jwk = this.keys.get(kid);
      if (!jwk || !noteKeyId(sig.name, Buffer.from(jwk.x, 'base64url')).equals(sig.keyId)) {
        unknown ??= kid;
        continue;
      }
      if (!verify(null, Buffer.from(parsed.text, 'utf8'), this.keyObject(jwk), sig.signature)) {
        return fail(`the signature by key ${kid} does not verify (the note was altered or signed by another key)`);
      }
      verifiedKid = kid;
    }
    if (verifiedKid === null) {
      return fail(
        unknown === null
          ? `no signature by a key of origin "${parsed.origin}"`
          : `signed by key ${unknown}, which is not among the published keys`,
      );
    }
    return { ok: true, checkpoint: { origin: parsed.origin, size: parsed.size, headHash: parsed.headHash, kid: verifiedKid } };
  }

  private keyObject(jwk: Ed25519Jwk): KeyObject {
    let k = this.keyObjects.get(jwk.kid);
    if (!k) {
      k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
      this.keyObjects.set(jwk.kid, k);
    }
    return k;
  }
}
