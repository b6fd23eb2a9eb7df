import { CsError } from '../../lib/errors.js';
import { MAX_BUCKETS, STATS_BUCKETS, type StatsBucket } from './schemas.js';

/** A dashboard range: whole buckets on UTC boundaries, from inclusive, to exclusive (epoch ms). */
export interface StatsRange {
  from: number;
  to: number;
  bucket: StatsBucket;
  size: number;
  /** Every bucket's start, oldest first. */
  starts: number[];
}

/** Resolves the query's range, widened to whole buckets; a range of more than MAX_BUCKETS is refused (400). */
export function statsRange(
  now: number,
  q: { from?: string | undefined; to?: string | undefined; bucket?: StatsBucket | undefined },
): StatsRange {
  const bucket = q.bucket ?? 'day';
  const size = STATS_BUCKETS[bucket];
  const toRaw = q.to === undefined ? now : Date.parse(q.to);
  const fromRaw = q.from === undefined ? toRaw - 7 * STATS_BUCKETS.day : Date.parse(q.from);
  if (!(fromRaw < toRaw))
    throw new CsError('invalid_request', 'from must be before to', { issues: [{ path: 'from', message: 'after to' }] });
  const from = fromRaw - (((fromRaw % size) + size) % size);
  const to = Math.ceil(toRaw / size) * size;
  const n = (to - from) / size;
  if (n > MAX_BUCKETS) {
    throw new CsError(
      'invalid_request',
      `the range holds ${n} ${bucket}s; at most ${MAX_BUCKETS} buckets (use bucket=day for long ranges)`,
      {
        issues: [{ path: 'from', message: 'range too long' }],
      },
    );
  }
  return { from, to, bucket, size, starts: Array.from({ length: n }, (_, i) => from + i * size) };
}
