import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { publishKeys } from './crypto/publish-keys.js';
import { type CreateDepsOptions, closeDeps, createDeps, type Deps } from './deps.js';
import { buildServer } from './http/server.js';
import { recordPolicy, watchPolicy } from './policy/reload.js';
import { AuditWatch } from './scheduler/audit-watch.js';
import { Checkpointer } from './scheduler/checkpointer.js';
import { Scheduler } from './scheduler/scheduler.js';

export interface Gateway {
  deps: Deps;
  app: FastifyInstance;
  scheduler: Scheduler;
  /** Signs audit checkpoints; tests call checkpointNow() / tick(). */
  checkpointer: Checkpointer;
  /** Verifies the audit chain from genesis now and then; tests call check(). */
  auditWatch: AuditWatch;
  /** Base URL the server listens on (after listen()). */
  url: string;
  close(): Promise<void>;
}

/** Wires one gateway: deps, policy, scheduler, HTTP server. `listen: false` keeps it in-process (app.inject). */
export async function startGateway(
  config: Config,
  opts: CreateDepsOptions & { listen?: boolean; watchPolicy?: boolean } = {},
): Promise<Gateway> {
  const deps = await createDeps(config, opts);
  try {
    // First, so every event this gateway commits from here on reaches its subscribers through the feed.
    await deps.feed.start();
  } catch (e) {
    await closeDeps(deps);
    throw e;
  }
  const scheduler = new Scheduler(deps);
  const checkpointer = new Checkpointer(deps);
  const auditWatch = new AuditWatch(deps, { url: config.database.url, schema: opts.schema });
  const app = buildServer(deps);
  let url = '';
  let unwatch: () => void = () => undefined;
  try {
    await publishKeys(deps);
    await recordPolicy(deps, deps.policy.current, 'start');
    if (opts.watchPolicy) unwatch = watchPolicy(deps);
    if (opts.listen !== false) {
      const address = await app.listen({ host: config.server.host, port: config.server.port });
      url = address.replace('[::1]', 'localhost');
    } else {
      await app.ready();
    }
    checkpointer.start();
    scheduler.start();
    auditWatch.start();
  } catch (e) {
    unwatch();
    await app.close().catch(() => undefined);
    await closeDeps(deps);
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    deps,
    app,
    scheduler,
    checkpointer,
    auditWatch,
    url,
    close() {
      closing ??= (async () => {
        unwatch();
        await scheduler.stop();
        await checkpointer.stop();
        await auditWatch.stop();
        await app.close();
        await closeDeps(deps);
      })();
      return closing;
    },
  };
}
