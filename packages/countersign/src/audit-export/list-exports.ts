import type { Actor } from '../db/committer.js';
import type { Deps } from '../deps.js';
import type { Principal } from '../domain/identities/principal.js';
import { adminActor } from '../events/consumers/admin-access.js';
import type { AuditExportView } from './schemas.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** Every SIEM sink any node has streamed: its position, how far behind it is, who streams it and why it is stuck. */
export async function listAuditExports(deps: Deps, caller: Principal | Actor): Promise<AuditExportView[]> {
  adminActor(caller);
  const db = deps.db.read;
  const head = Number((await db.selectFrom('chain_head').select('audit_seq').where('id', '=', 1).executeTakeFirstOrThrow()).audit_seq);
  const rows = await db.selectFrom('audit_export_sinks').selectAll().orderBy('name').execute();
  const types = new Map(deps.config.auditExport.sinks.map((s) => [s.name, s.type]));
  const now = deps.clock.now();
  const views: AuditExportView[] = [];
  for (const r of rows) {
    const cursor = Number(r.cursor);
    const oldest =
      cursor < head
        ? await db.selectFrom('audit_log').select('ts').where('seq', '>', cursor).orderBy('seq').limit(1).executeTakeFirst()
        : undefined;
    const expires = r.lease_expires_at === null ? null : Number(r.lease_expires_at);
    const live = r.lease_owner !== null && expires !== null && expires > now;
    views.push({
      name: r.name,
      type: types.get(r.name) ?? null,
      cursor,
      cursor_hash: r.cursor_hash,
      head,
      lag_entries: Math.max(0, head - cursor),
      lag_ms: oldest ? Math.max(0, now - Number(oldest.ts)) : 0,
      lease_owner: live ? r.lease_owner : null,
      attempts: Number(r.attempts),
      next_attempt_at: iso(r.next_attempt_at),
      last_error: r.last_error,
      sent_at: iso(r.sent_at),
    });
  }
  return views;
}
