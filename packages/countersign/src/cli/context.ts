import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Actor } from '../db/committer.js';
import { isPostgresUrl, sqlitePath } from '../db/connect.js';
import { closeDeps, createDeps, type Deps } from '../deps.js';
import { CsError } from '../lib/errors.js';

export interface DataOptions {
  data?: string;
  config?: string;
}

/** Admin commands work straight on the data dir / database, like `gitea admin`, without a running server. */
export async function withLocalDeps<T>(opts: DataOptions, fn: (deps: Deps, actor: Actor) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: opts.config, overrides: { dataDir: opts.data } });
  await awaitDatabase(config);
  const deps = await createDeps(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    return await fn(deps, cliActor());
  } finally {
    await closeDeps(deps);
  }
}

/**
 * `countersign serve & countersign users add …` (as the docs write it) races: the server creates its
 * database a moment after it starts, and an admin command started with it may look first. So a missing
 * database is waited for a few seconds (never created) before the command is refused.
 */
async function awaitDatabase(config: Config): Promise<void> {
  if (isPostgresUrl(config.database.url)) return;
  const path = sqlitePath(config.database.url);
  for (let waited = 0; waited < DATABASE_WAIT_MS && !existsSync(path); waited += 100) {
    if (waited === 500) process.stderr.write(`waiting for ${path} (a starting "countersign serve" creates it)…\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
  requireExistingDatabase(config);
}

const DATABASE_WAIT_MS = 5000;

/**
 * Admin commands never create a database. One that did would, when pointed at the wrong place (the
 * server runs on PostgreSQL, or with another --data), quietly make a fresh SQLite file and hand out
 * keys the server has never heard of. Only `serve` creates the database; a PostgreSQL URL names one
 * that already exists (its tables are created by migrations, as `serve` would).
 */
export function requireExistingDatabase(config: Config): void {
  if (isPostgresUrl(config.database.url)) return;
  const path = sqlitePath(config.database.url);
  if (existsSync(path)) return;
  throw new CsError(
    'not_found',
    `no Countersign database at ${path}; admin commands act on the server's database and never create one. ` +
      'Run them with the same --data DIR, --config FILE or COUNTERSIGN_DATABASE_URL the server was started with ' +
      '(its start-up banner prints the exact command), or start "countersign serve" first to create the database.',
  );
}

export function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers); the audit entry still says it came from the CLI.
  }
  return { type: 'admin', id: `cli:${user}` };
}
