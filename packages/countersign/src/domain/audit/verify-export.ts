import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { canonicalJson } from '../../lib/canonical.js';
import { CsError } from '../../lib/errors.js';
import { type AuditProblem, ChainVerifier, type TrustedCheckpoint } from './chain-verifier.js';
import { CheckpointVerifier, type PublicKeySet } from './checkpoint-note.js';
import type { AuditVerifyResult } from './verify-audit.js';

export interface VerifyExportInput {
  /** JSON lines as written by `countersign audit export`, from entry 1. */
  file: string;
  /** Signed checkpoint notes (files as served by GET /v1/audit/checkpoints/latest with Accept: text/plain). */
  checkpointFiles: string[];
  /** The trusted public keys, { keys: [...] } as GET /.well-known/jwks.json serves them. */
  jwksFile?: string | undefined;
}

function readUtf8(path: string, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
  } catch (e) {
    throw new CsError('invalid_request', `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

function readJwks(path: string): PublicKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readUtf8(path, 'JWKS'));
  } catch (e) {
    if (e instanceof CsError) throw e;
    throw new CsError('invalid_request', `${path} is not JSON: ${(e as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new CsError('invalid_request', `${path} is not a JWKS ({"keys": [...]})`);
  return { keys };
}

/** Checks each checkpoint's signature with the given keys; a bad one is a finding, an unreadable file an error. */
function checkCheckpoints(files: string[], jwks: PublicKeySet): { trusted: TrustedCheckpoint[]; forged: AuditProblem[] } {
  const verifier = new CheckpointVerifier(jwks);
  const bySize = new Map<number, TrustedCheckpoint>();
  const forged: AuditProblem[] = [];
  for (const file of files) {
    const r = verifier.check(readUtf8(file, 'checkpoint'));
    if (!r.ok && r.size === null) throw new CsError('invalid_request', `${file}: ${r.problem}`);
    if (!r.ok) {
      forged.push({ seq: r.size ?? 0, kind: 'forged_checkpoint', problem: `checkpoint ${r.size} (${file}): ${r.problem}` });
      continue;
    }
    const cp = r.checkpoint;
    const seen = bySize.get(cp.size);
    if (seen && seen.headHash !== cp.headHash) {
      forged.push({ seq: cp.size, kind: 'forged_checkpoint', problem: `two validly signed checkpoints disagree at size ${cp.size}` });
    }
    bySize.set(cp.size, { size: cp.size, headHash: cp.headHash, kid: cp.kid });
  }
  return { trusted: [...bySize.values()].sort((a, b) => a.size - b.size), forged: forged.sort((a, b) => a.seq - b.seq) };
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/**
 * Verifies an exported log with no database: the chain from genesis, and the
 * chain against each signed checkpoint, whose signatures are checked against
 * a JWKS obtained independently (pinned, or fetched from the gateway before
 * anything could have been tampered with). `data` is re-canonicalised from
 * its parsed form, which reproduces the stored canonical text exactly.
 */
export async function verifyExport(input: VerifyExportInput): Promise<AuditVerifyResult> {
  if (input.checkpointFiles.length > 0 && !input.jwksFile) {
    throw new CsError('invalid_request', 'checking a checkpoint needs the public keys: pass --jwks FILE');
  }
  const { trusted, forged } = input.jwksFile
    ? checkCheckpoints(input.checkpointFiles, readJwks(input.jwksFile))
    : { trusted: [], forged: [] };
  const v = new ChainVerifier(trusted);
  const lines = createInterface({ input: createReadStream(input.file, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo += 1;
      if (line === '') continue;
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        v.fail(v.headSeq + 1, 'malformed', `line ${lineNo} is not JSON`);
        break;
      }
      const { seq, ts, actor_type, actor_id, event, action_id, data, prev_hash, hash } = e ?? {};
      if (
        !Number.isSafeInteger(seq) ||
        !Number.isSafeInteger(ts) ||
        !isStr(actor_type) ||
        !isStrOrNull(actor_id) ||
        !isStr(event) ||
        !isStrOrNull(action_id) ||
        typeof data !== 'object' ||
        data === null ||
        !isStr(prev_hash) ||
        !isStr(hash)
      ) {
        v.fail(v.headSeq + 1, 'malformed', `line ${lineNo} is not an audit entry as \`audit export\` writes them`);
        break;
      }
      const entry = {
        seq: seq as number,
        ts: ts as number,
        actor_type,
        actor_id,
        event,
        action_id,
        data: canonicalJson(data),
        prev_hash,
        hash,
      };
      if (!v.push(entry)) break;
    }
  } catch (e) {
    throw new CsError('invalid_request', `cannot read ${input.file}: ${(e as Error).message}`);
  } finally {
    lines.close();
  }
  v.finish();
  const firstBad = [v.problem, forged[0]].filter((p): p is AuditProblem => p !== undefined).sort((a, b) => a.seq - b.seq)[0];
  return {
    ok: firstBad === undefined,
    entries: v.entries,
    headSeq: v.headSeq,
    headHash: v.headHash,
    checkpoints: { matched: v.matched, latest: v.latestMatched ?? null },
    ...(firstBad ? { firstBad } : {}),
  };
}
