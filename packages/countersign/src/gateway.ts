import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { type CreateDepsOptions, closeDeps, createDeps, type Deps } from './deps.js';
import { buildServer } from './http/server.js';
import { ExpiryScheduler } from './scheduler/expiry-scheduler.js';

export interface Gateway {
  deps: Deps;
  app: FastifyInstance;
  scheduler: ExpiryScheduler;
  /** Base URL the server listens on (after listen()). */
  url: string;
  close(): Promise<void>;
}

/** Wires one gateway: deps, expiry scheduler, HTTP server. `listen: false` keeps it in-process (app.inject). */
export async function startGateway(config: Config, opts: CreateDepsOptions & { listen?: boolean } = {}): Promise<Gateway> {
  const deps = await createDeps(config, opts);
  const scheduler = new ExpiryScheduler(deps);
  const app = buildServer(deps);
  let url = '';
  try {
    if (opts.listen !== false) {
      const address = await app.listen({ host: config.server.host, port: config.server.port });
      url = address.replace('[::1]', 'localhost');
    } else {
      await app.ready();
    }
    scheduler.start();
  } catch (e) {
    await app.close().catch(() => undefined);
    await closeDeps(deps);
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    deps,
    app,
    scheduler,
    url,
    close() {
      closing ??= (async () => {
        await scheduler.stop();
        await app.close();
        await closeDeps(deps);
      })();
      return closing;
    },
  };
}
