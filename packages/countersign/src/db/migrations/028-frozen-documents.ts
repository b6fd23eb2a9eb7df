import { type Kysely, sql } from 'kysely';
import { frozenDigest } from '../../domain/actions/frozen-digest.js';
import type { Capabilities } from '../connect.js';

/** Rows read (then updated) at a time by the back-fill. */
const CHUNK = 5000;

/**
 * An action's frozen texts, its policy decision (`policy`) and its workflow (`workflow`), stored once per
 * distinct text in `frozen_documents`, keyed by the SHA-256 of the exact text; the action keeps the digests
 * (`policy_digest`, `workflow_digest`). They are the same text for every action of a rule (issue 19: ~380
 * bytes a row, and PostgreSQL copies the whole row on each of an action's 1 to 3 updates); by digest they
 * cost one 32-byte value each (bytea on PostgreSQL, capabilities.binaryHashes; the hex text on SQLite).
 * Nothing a reader gets changes: domain/actions/action-rows.ts reads the texts back by digest.
 *
 * Every existing action is moved, in id order a chunk at a time, inside the migration's transaction (its
 * lock held throughout: minutes for millions of actions); the digest is computed here rather than in SQL,
 * where the two databases share no hash function, and each distinct text is hashed once. The old columns
 * are then dropped (SQLite rewrites the table; on PostgreSQL the hex-to-bytea conversion that follows
 * rewrites it, which also leaves out the dropped texts and the versions the back-fill's updates left).
 * Documents are never deleted or changed: a digest names one text for good, so no foreign key is kept
 * (on PostgreSQL it would lock the document's row on every insert of an action).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>, caps: Capabilities): Promise<void> {
  await db.schema
    .createTable('frozen_documents')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    .addColumn('text', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('actions').addColumn('policy_digest', 'text').execute();
  await db.schema.alterTable('actions').addColumn('workflow_digest', 'text').execute();
  const digests = new Map<string, string>();
  const digestOf = (text: string): { digest: string; fresh: boolean } => {
    const known = digests.get(text);
    if (known !== undefined) return { digest: known, fresh: false };
    const digest = frozenDigest(text);
    digests.set(text, digest);
    return { digest, fresh: true };
  };
  let after = '';
  for (;;) {
    const rows: { id: string; policy: string; workflow: string | null }[] = await db
      .selectFrom('actions')
      .select(['id', 'policy', 'workflow'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(CHUNK)
      .execute();
    if (rows.length === 0) break;
    const docs: { digest: string; text: string }[] = [];
    const byPair = new Map<string, { policy: string; workflow: string | null; ids: string[] }>();
    for (const r of rows) {
      const p = digestOf(r.policy);
      if (p.fresh) docs.push({ digest: p.digest, text: r.policy });
      let w: string | null = null;
      if (r.workflow !== null) {
        const d = digestOf(r.workflow);
        if (d.fresh) docs.push({ digest: d.digest, text: r.workflow });
        w = d.digest;
      }
      const pair = `${p.digest}:${w ?? ''}`;
      const group = byPair.get(pair);
      if (group) group.ids.push(r.id);
      else byPair.set(pair, { policy: p.digest, workflow: w, ids: [r.id] });
    }
    // Few per chunk (distinct texts are one per rule and policy version); 500 a statement keeps within parameter limits.
    for (let i = 0; i < docs.length; i += 500)
      await db
        .insertInto('frozen_documents')
        .values(docs.slice(i, i + 500))
        .execute();
    for (const g of byPair.values()) {
      await db.updateTable('actions').set({ policy_digest: g.policy, workflow_digest: g.workflow }).where('id', 'in', g.ids).execute();
    }
    after = (rows.at(-1) as { id: string }).id;
  }
  await db.schema.alterTable('actions').dropColumn('policy').execute();
  await db.schema.alterTable('actions').dropColumn('workflow').execute();
  for (const ddl of caps.binaryHashes('frozen_documents', ['digest'])) await sql.raw(ddl).execute(db);
  for (const ddl of caps.binaryHashes('actions', ['policy_digest', 'workflow_digest'])) await sql.raw(ddl).execute(db);
}
