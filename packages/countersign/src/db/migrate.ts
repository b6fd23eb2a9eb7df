import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as init from './migrations/001-init.js';

/** Migrations are compiled in, so a packaged binary never depends on files next to it. */
const MIGRATIONS: Record<string, Migration> = {
  '001-init': init,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the migrator works on the untyped schema
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error | undefined)?.message ?? 'unknown error'}`, {
      cause: error,
    });
  }
}
