import { userInfo } from 'node:os';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import type { Actor } from '../db/committer.js';
import { closeDeps, createDeps, type Deps } from '../deps.js';

export interface DataOptions {
  data?: string;
  config?: string;
}

/** Admin commands work straight on the data dir / database, like `gitea admin`, without a running server. */
export async function withLocalDeps<T>(opts: DataOptions, fn: (deps: Deps, actor: Actor) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: opts.config, overrides: { dataDir: opts.data } });
  const deps = await createDeps(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    return await fn(deps, cliActor());
  } finally {
    await closeDeps(deps);
  }
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
