import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { GENESIS_HASH } from './chain.js';
import type { AuditProblem, TrustedCheckpoint } from './chain-verifier.js';
import { checkStoredCheckpoints } from './stored-checkpoints.js';
import { type RangeResult, type RangeTask, verifyRange } from './verify-range.js';
import type { RangeWorkerData } from './verify-range-worker.js';

export interface AuditVerifyResult {
  ok: boolean;
  /** Entries that verified (before the first bad one, if any). */
  entries: number;
  headSeq: number;
  headHash: string;
  /** Signed checkpoints the chain matched, and the latest of them. */
  checkpoints: { matched: number; latest: TrustedCheckpoint | null };
  /** The first thing that does not verify, by sequence number. */
  firstBad?: AuditProblem;
}

export interface VerifyAuditOptions {
  /** Rows per query. */
  page?: number;
  /**
   * How to open more connections, so worker threads can verify stretches of a
   * long chain in parallel (the CLI passes it; without it everything runs here).
   */
  connection?: { url: string; schema?: string | undefined };
  /** Worker threads besides this one; default one fewer than the cores, at most 3. */
  workers?: number;
  /** Below this many entries one thread is faster than starting workers. */
  parallelFrom?: number;
  /** Told when a worker fails (its range is then verified here instead). */
  onWorkerError?: (error: unknown) => void;
}

/** Modest pages: large ones keep every row alive until the page is done, which costs more in GC than the queries save. */
const PAGE = 2000;
const PARALLEL_FROM = 200_000;

/**
 * Verifies the whole log in the database: every stored checkpoint's signature
 * against the published keys, then the chain from genesis against them (see
 * ChainVerifier), then that chain_head names the last entry. Reports the
 * problem with the lowest sequence number.
 *
 * A long chain is split into consecutive ranges verified at once, one here and
 * the rest in worker threads; each range trusts its first prev_hash, and the
 * ranges are then stitched: each must start on the hash the previous one ended
 * on. That finds exactly what one walk from genesis finds.
 */
export async function verifyAudit(db: Kysely<DB>, opts: VerifyAuditOptions = {}): Promise<AuditVerifyResult> {
  const page = opts.page ?? PAGE;
  const { trusted, forged } = await checkStoredCheckpoints(db);
  const tasks = await plan(db, trusted, page, opts);
  const [own, ...others] = tasks;
  const { connection } = opts;
  // A worker that cannot start or connect leaves its range to this thread: the answer never depends on them.
  const failed = (error: unknown) => {
    opts.onWorkerError?.(error);
    return null;
  };
  const started = others.map((task) => (connection ? inWorker(connection, task).catch(failed) : Promise.resolve(null)));
  const results = [await verifyRange(db, own as RangeTask)];
  for (const [i, p] of started.entries()) results.push((await p) ?? (await verifyRange(db, others[i] as RangeTask)));
  const chain = stitch(results);
  if (!chain.problem) {
    const head = await db.selectFrom('chain_head').select(['audit_seq', 'audit_hash']).where('id', '=', 1).executeTakeFirst();
    const headSeq = Number(head?.audit_seq);
    if (head && headSeq > chain.headSeq) {
      chain.problem = {
        seq: chain.headSeq + 1,
        kind: 'truncated',
        problem: `the chain head records ${headSeq} entries but only ${chain.headSeq} verify (tail truncated)`,
      };
    } else if (head && headSeq < chain.headSeq) {
      chain.problem = {
        seq: headSeq + 1,
        kind: 'edited',
        problem: `entries after ${headSeq}, where the chain head ends, were added outside the gateway`,
      };
    } else if (head && head.audit_hash !== chain.headHash) {
      chain.problem = {
        seq: chain.headSeq,
        kind: 'edited',
        problem: `the chain head's hash does not match entry ${chain.headSeq} (head altered)`,
      };
    }
  }
  const firstBad = [chain.problem, forged[0]].filter((p): p is AuditProblem => p !== undefined).sort((a, b) => a.seq - b.seq)[0];
  return {
    ok: firstBad === undefined,
    entries: chain.entries,
    headSeq: chain.headSeq,
    headHash: chain.headHash,
    checkpoints: { matched: chain.matched, latest: chain.latest },
    ...(firstBad ? { firstBad } : {}),
  };
}

/** One range, or for a long chain consecutive ones, one per thread. */
async function plan(db: Kysely<DB>, checkpoints: TrustedCheckpoint[], page: number, opts: VerifyAuditOptions): Promise<RangeTask[]> {
  const workers = opts.workers ?? Math.min(3, availableParallelism() - 1);
  if (!opts.connection || workers < 1) return [{ from: 1, to: null, checkpoints, page }];
  const max = Number(
    (
      await db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.max('seq').as('max'))
        .executeTakeFirst()
    )?.max ?? 0,
  );
  if (max < (opts.parallelFrom ?? PARALLEL_FROM)) return [{ from: 1, to: null, checkpoints, page }];
  return splitRanges(max, workers).map((r) => ({ ...r, checkpoints, page }));
}

/** Consecutive ranges over 1..max, the last open-ended; this thread's (the first) is larger, as workers take a moment to start. */
export function splitRanges(max: number, workers: number): { from: number; to: number | null }[] {
  const weights = [1.2, ...Array.from({ length: workers }, () => 1)];
  const total = weights.reduce((a, b) => a + b, 0);
  const ranges: { from: number; to: number | null }[] = [];
  let from = 1;
  let share = 0;
  for (const [i, w] of weights.entries()) {
    share += w;
    const to = i === weights.length - 1 ? null : Math.round((max * share) / total);
    if (to !== null && to < from) continue;
    ranges.push({ from, to });
    if (to !== null) from = to + 1;
  }
  return ranges;
}

function inWorker(connection: { url: string; schema?: string | undefined }, task: RangeTask): Promise<RangeResult> {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./verify-range-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url).href;
  // Run from source (tests, benches), a worker on Node 20 does not inherit tsx's loader: register it first.
  const code = fromSource
    ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`
    : `import(${JSON.stringify(entry)})`;
  const workerData: RangeWorkerData = { url: connection.url, schema: connection.schema, task };
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData });
    worker.once('message', (r: RangeResult) => resolve(r));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`verify worker exited with ${code}`)));
  });
}

interface Stitched {
  entries: number;
  headSeq: number;
  headHash: string;
  matched: number;
  latest: TrustedCheckpoint | null;
  problem?: AuditProblem;
}

/** Joins consecutive ranges: each must begin right after, and on the hash, where the previous one ended. */
function stitch(results: RangeResult[]): Stitched {
  const out: Stitched = { entries: 0, headSeq: 0, headHash: GENESIS_HASH, matched: 0, latest: null };
  for (const [i, r] of results.entries()) {
    if (i > 0) {
      if (r.firstSeq === null) continue;
      if (out.headSeq !== r.from - 1) {
        out.problem = {
          seq: out.headSeq + 1,
          kind: 'deleted',
          problem: `entry ${out.headSeq + 1} is missing (next present is ${r.firstSeq})`,
        };
        return out;
      }
      // A range whose own first entry is missing reports that itself.
      if (r.firstSeq === r.from && r.startHash !== out.headHash) {
        out.problem = {
          seq: r.from,
          kind: 'reordered',
          problem: 'prev_hash does not match the previous entry (entries reordered or replaced)',
        };
        return out;
      }
    }
    out.entries += r.entries;
    // A range that verified nothing keeps the head where the previous one ended (its own start is only a claim).
    if (r.entries > 0) {
      out.headSeq = r.headSeq;
      out.headHash = r.headHash;
    }
    out.matched += r.matched;
    out.latest = r.latestMatched ?? out.latest;
    if (r.problem) {
      out.problem = r.problem;
      return out;
    }
  }
  return out;
}
