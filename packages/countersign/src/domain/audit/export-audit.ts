import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { toAuditEntryView } from './schemas.js';

const PAGE = 5000;

/** Streams the log as JSON lines, oldest first, each line the stored entry exactly (data as parsed JSON). */
export async function* exportAudit(db: Kysely<DB>, opts: { since?: number } = {}): AsyncGenerator<string> {
  let after = (opts.since ?? 1) - 1;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(PAGE).execute();
    for (const r of rows) {
      yield `${JSON.stringify(toAuditEntryView(r))}\n`;
      after = Number(r.seq);
    }
    if (rows.length < PAGE) return;
  }
}
