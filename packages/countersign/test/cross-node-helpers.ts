import assert from 'node:assert/strict';
import pino from 'pino';
import type { Config } from '../src/config/schema.js';
import type { Deps } from '../src/deps.js';
import { startGateway } from '../src/gateway.js';
import type { Clock } from '../src/lib/clock.js';
import { type ApiResponse, type Dialect, type World, world } from './helpers.js';

export interface TwoNodes {
  /** Gateway A (the world's own: people, agents and keys were made there). */
  a: World;
  /** Gateway B: its own Deps (pool, LISTEN connection, feed, bus, scheduler) on the same database and schema. */
  b: World;
  close(): Promise<void>;
}

/**
 * Two gateways on one database, as behind a load balancer: same schema (PostgreSQL) or same file
 * (SQLite), same keyring, each with its own connections and its own in-process bus.
 */
export async function twoNodes(
  dialect: Dialect,
  opts: { clock?: Clock; listen?: boolean; config?: (c: Config) => Config } = {},
): Promise<TwoNodes> {
  const a = await world(dialect, {
    listen: opts.listen ?? false,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.config ? { config: opts.config } : {}),
  });
  let gwB: World['gw'];
  try {
    gwB = await startGateway(a.gw.deps.config, {
      listen: opts.listen ?? false,
      logger: pino({ level: 'silent' }),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(a.env.schema ? { schema: a.env.schema } : {}),
    });
  } catch (e) {
    await a.close();
    throw e;
  }
  const b: World = { ...a, gw: gwB, close: () => gwB.close() };
  return {
    a,
    b,
    async close() {
      await gwB.close();
      await a.close();
    },
  };
}

/** Polls a condition on real time without asserting anything about how long it took. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, tries = 4000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

/** Open waiters of a kind on a gateway, from its own metrics. */
export async function waiters(deps: Deps, kind: 'long_poll' | 'sse'): Promise<number> {
  const m = await deps.metrics.waiters.get();
  return m.values.find((v) => v.labels.kind === kind)?.value ?? 0;
}

export async function counter(deps: Deps, name: 'feedReads' | 'feedPublished' | 'listenReconnects', label?: string): Promise<number> {
  const m = await deps.metrics[name].get();
  return m.values.filter((v) => label === undefined || Object.values(v.labels).includes(label)).reduce((s, v) => s + v.value, 0);
}

/** Settles a request started earlier, remembering whether it has answered yet. */
export function track<T>(p: Promise<ApiResponse<T>>) {
  const t = { done: false, result: p };
  void p.then(() => {
    t.done = true;
  });
  return t;
}

/** The highest event seq committed to the database. */
export async function headSeq(deps: Deps): Promise<number> {
  const row = await deps.db.read.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(row.event_seq);
}
