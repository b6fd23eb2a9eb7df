import type { PolicyVersionView } from './schemas.js';
import type { PolicyTrigger, PolicyVersionRow } from './versions.js';

/** One version as the API and the CLI show it. */
export function policyVersionView(row: PolicyVersionRow, activeVersion: number): PolicyVersionView {
  return {
    version: Number(row.version),
    hash: row.hash,
    active: Number(row.version) === activeVersion,
    applied_at: new Date(Number(row.applied_at)).toISOString(),
    applied_by: { type: row.applied_by_type, id: row.applied_by_id, label: row.applied_by_label },
    trigger: row.trigger as PolicyTrigger,
    note: row.note,
    restored_from: row.restored_from === null ? null : Number(row.restored_from),
  };
}
