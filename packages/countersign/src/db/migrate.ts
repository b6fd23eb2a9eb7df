import { type Kysely, sql } from 'kysely';
import type { Capabilities, Database } from './connect.js';
import * as init from './migrations/001-init.js';
import * as workflows from './migrations/002-workflows.js';
import * as proof from './migrations/003-proof.js';
import * as checkpointsAppendOnly from './migrations/004-checkpoints-append-only.js';
import * as actionTrees from './migrations/005-action-trees.js';
import * as identityEpoch from './migrations/006-identity-epoch.js';
import * as consumers from './migrations/007-consumers.js';
import * as policyVersions from './migrations/008-policy-versions.js';
import * as groups from './migrations/009-groups.js';
import * as sessions from './migrations/010-sessions.js';
import * as oidc from './migrations/011-oidc.js';
import * as passkeys from './migrations/012-passkeys.js';
import * as delegations from './migrations/013-delegations.js';
import * as oversight from './migrations/014-oversight.js';
import * as keyLastUsed from './migrations/015-key-last-used.js';
import * as notificationDeliveries from './migrations/016-notification-deliveries.js';
import * as emailDecisionLinks from './migrations/017-email-decision-links.js';
import * as webhooks from './migrations/018-webhooks.js';
import * as chatLinkRequests from './migrations/019-chat-link-requests.js';
import * as slackMessages from './migrations/020-slack-messages.js';
import * as teams from './migrations/021-teams.js';
import * as statsRollup from './migrations/022-stats-rollup.js';
import * as inboxIndexes from './migrations/023-inbox-indexes.js';
import * as auditExport from './migrations/024-audit-export.js';

import * as traceContext from './migrations/025-trace-context.js';
import * as inboxWorkflowKey from './migrations/026-inbox-workflow-key.js';
import * as compactAudit from './migrations/027-compact-audit.js';
import * as frozenDocuments from './migrations/028-frozen-documents.js';
import * as receipts from './migrations/029-receipts.js';

interface Migration {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
  up(db: Kysely<any>, caps: Capabilities): Promise<void>;
}

/** In order; compiled in, so a packaged binary never depends on files next to it. Never edit one that shipped. */
const MIGRATIONS: readonly Migration[] = [
  { name: '001-init', up: init.up },
  { name: '002-workflows', up: workflows.up },
  { name: '003-proof', up: proof.up },
  { name: '004-checkpoints-append-only', up: checkpointsAppendOnly.up },
  { name: '005-action-trees', up: actionTrees.up },
  { name: '006-identity-epoch', up: identityEpoch.up },
  { name: '007-consumers', up: consumers.up },
  { name: '008-policy-versions', up: policyVersions.up },
  { name: '009-groups', up: groups.up },
  { name: '010-sessions', up: sessions.up },
  { name: '011-oidc', up: oidc.up },
  { name: '012-passkeys', up: passkeys.up },
  { name: '013-delegations', up: delegations.up },
  { name: '014-oversight', up: oversight.up },
  { name: '015-key-last-used', up: keyLastUsed.up },
  { name: '016-notification-deliveries', up: notificationDeliveries.up },
  { name: '017-email-decision-links', up: emailDecisionLinks.up },
  { name: '018-webhooks', up: webhooks.up },
  { name: '019-chat-link-requests', up: chatLinkRequests.up },
  { name: '020-slack-messages', up: slackMessages.up },
  { name: '021-teams', up: teams.up },
  { name: '022-stats-rollup', up: statsRollup.up },
  { name: '023-inbox-indexes', up: inboxIndexes.up },
  { name: '024-audit-export', up: auditExport.up },

  { name: '025-trace-context', up: traceContext.up },
  { name: '026-inbox-workflow-key', up: inboxWorkflowKey.up },
  { name: '027-compact-audit', up: compactAudit.up },
  { name: '028-frozen-documents', up: frozenDocuments.up },
  { name: '029-receipts', up: receipts.up },
];

/**
 * Applies pending migrations in one transaction. Our own, rather than Kysely's
 * Migrator, for two reasons: Kysely's looks for its bookkeeping tables in every
 * PostgreSQL schema (so one install or test schema confuses another), and
 * several gateways starting at once against one database must not race:
 * PostgreSQL takes a transaction-scoped advisory lock keyed on the schema,
 * SQLite holds its write lock from `BEGIN IMMEDIATE`. DDL is transactional in
 * both, so a failed migration leaves nothing half-applied.
 */
export async function migrateToLatest(db: Database, opts: { through?: string } = {}): Promise<string[]> {
  // `through` stops after the named migration: how a test builds yesterday's schema with yesterday's rows and then upgrades.
  const last = opts.through === undefined ? MIGRATIONS.length : MIGRATIONS.findIndex((m) => m.name === opts.through) + 1;
  if (last === 0) throw new Error(`no migration named ${opts.through}`);
  const { caps } = db;
  return db.write.connection().execute(async (conn) => {
    await sql.raw(caps.beginWrite).execute(conn);
    try {
      await lockForMigration(conn, caps);
      await sql`create table if not exists cs_migrations (name text primary key, applied_at bigint not null)`.execute(conn);
      const rows = await sql<{ name: string }>`select name from cs_migrations`.execute(conn);
      const done = new Set(rows.rows.map((r) => r.name));
      const applied: string[] = [];
      for (const m of MIGRATIONS.slice(0, last)) {
        if (done.has(m.name)) continue;
        await m.up(conn, caps);
        await sql`insert into cs_migrations (name, applied_at) values (${m.name}, ${Date.now()})`.execute(conn);
        applied.push(m.name);
      }
      const unknown = [...done].filter((n) => !MIGRATIONS.some((m) => m.name === n));
      if (unknown.length > 0) {
        throw new Error(`the database was migrated by a newer Countersign (${unknown.join(', ')}); upgrade this binary`);
      }
      await sql.raw('commit').execute(conn);
      return applied;
    } catch (e) {
      await sql
        .raw('rollback')
        .execute(conn)
        .catch(() => undefined);
      throw new Error(`database migration failed: ${(e as Error).message}`, { cause: e });
    }
  });
}

// biome-ignore lint/suspicious/noExplicitAny: see above
async function lockForMigration(conn: Kysely<any>, caps: Capabilities): Promise<void> {
  if (caps.migrationLock) await sql.raw(caps.migrationLock).execute(conn);
}

/** The migrations this binary knows, in order: a backup or restore refuses a database that names others (a newer release's). */
export function knownMigrations(): readonly string[] {
  return MIGRATIONS.map((m) => m.name);
}
