import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../packages/countersign/src/config/load.js';
import type { Config } from '../packages/countersign/src/config/schema.js';

export const PG_URL = process.env.COUNTERSIGN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A benchmark's own database: a temp data dir (SQLite) or a new PostgreSQL schema `cs_bench_<hex>`, dropped by `drop()`. */
export interface BenchDatabase {
  /** The defaults for it, before the benchmark's own settings. */
  config: Config;
  /** For startGateway's options (PostgreSQL only). */
  schema: string | undefined;
  drop(): Promise<void>;
}

export function benchDatabase(dialect: string, name: string): BenchDatabase {
  const dir = mkdtempSync(join(tmpdir(), `cs-bench-${name}-`));
  const schema = dialect === 'postgres' ? `cs_bench_${randomBytes(6).toString('hex')}` : undefined;
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, ...(schema ? { databaseUrl: PG_URL } : {}) } });
  return {
    config,
    schema,
    async drop() {
      rmSync(dir, { recursive: true, force: true });
      if (!schema) return;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}
