import type { Actor } from '../db/committer.js';
import type { Deps } from '../deps.js';
import type { Principal } from '../domain/identities/principal.js';
import { adminActor } from '../events/consumers/admin-access.js';
import { CsError } from '../lib/errors.js';

export interface ForgottenSink {
  name: string;
  /** The last entry the sink had taken, kept in the audit entry that records the removal. */
  cursor: number;
  cursorHash: string;
}

/**
 * Removes the row of a SIEM sink no node streams any more (taken out of `audit_export.sinks` everywhere), so
 * `audit sinks` and the lag metrics stop reporting a sink nobody will ever catch up. Refused while this node
 * still configures it or any node holds its lease: a running exporter would carry on without a row. A sink
 * configured again later is registered afresh, at genesis or the head as its `start_at` says. Audited with
 * the position it had reached, so the log says up to where that SIEM holds a copy.
 */
export async function forgetAuditSink(deps: Deps, caller: Principal | Actor, name: string): Promise<ForgottenSink> {
  const { actor } = adminActor(caller);
  if (deps.config.auditExport.sinks.some((s) => s.name === name)) {
    throw new CsError(
      'conflict',
      `sink ${name} is still in this node's audit_export.sinks; remove it from the configuration of every node first`,
    );
  }
  return deps.committer.run(async (tx) => {
    let q = tx.db
      .selectFrom('audit_export_sinks')
      .select(['cursor', 'cursor_hash', 'lease_owner', 'lease_expires_at'])
      .where('name', '=', name);
    if (tx.caps.lockSuffix) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw new CsError('not_found', `no audit export sink named ${name}`);
    if (row.lease_owner !== null && row.lease_expires_at !== null && Number(row.lease_expires_at) > tx.now) {
      throw new CsError('conflict', `sink ${name} is being streamed by ${row.lease_owner}; remove it from that node's configuration first`);
    }
    await tx.db.deleteFrom('audit_export_sinks').where('name', '=', name).execute();
    const forgotten = { name, cursor: Number(row.cursor), cursorHash: row.cursor_hash };
    tx.audit({
      actor,
      event: 'audit_export.sink_forgotten',
      actionId: null,
      data: { sink: name, cursor: forgotten.cursor, cursor_hash: forgotten.cursorHash },
    });
    return forgotten;
  });
}
