import type { Kysely, Selectable } from 'kysely';
import type { DB, PolicyVersionsTable } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import { parsePolicyDocument } from '../../policy/document.js';
import { type LoadedPolicy, loadPolicy } from '../../policy/store.js';

export type PolicyVersionRow = Selectable<PolicyVersionsTable>;

export const POLICY_TRIGGERS = ['apply', 'rollback', 'start', 'reload'] as const;
export type PolicyTrigger = (typeof POLICY_TRIGGERS)[number];

/** The version every node decides with; 0 while the database holds none. */
export async function readActiveVersion(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom('policy_active').select('version').where('id', '=', 1).executeTakeFirst();
  return Number(row?.version ?? 0);
}

export async function readVersion(db: Kysely<DB>, version: number): Promise<PolicyVersionRow | undefined> {
  return db.selectFrom('policy_versions').selectAll().where('version', '=', version).executeTakeFirst();
}

export async function requireVersion(db: Kysely<DB>, version: number): Promise<PolicyVersionRow> {
  const row = await readVersion(db, version);
  if (!row) throw new CsError('not_found', `there is no policy version ${version}`);
  return row;
}

/**
 * Compiles a stored version the way the node that applied it did (same document, same default expiry),
 * so every node gets the same hash. A stored version compiled once already, so a failure here means the
 * software changed under it; the caller keeps the policy it has.
 */
export function compileVersion(row: PolicyVersionRow): LoadedPolicy {
  const doc = parsePolicyDocument(row.document);
  return loadPolicy(doc.sections, Number(row.default_expiry_ms));
}
