import type { Kysely } from 'kysely';

/**
 * The W3C trace context of the request that proposed an action (`traceparent`, and `tracestate` when the
 * caller sent one), so the spans of its decision, redemption and result, which run in other requests
 * (often hours later, on another node), link back to the agent's trace and the time spent waiting for a
 * person shows in it. On the action row rather than in the outbox event: every later step already reads
 * the row in its own transaction, and events are pruned by retention while the action lives on. Null when
 * tracing is off, which is what most rows are: nothing to write, no index.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('actions').addColumn('traceparent', 'text').execute();
  await db.schema.alterTable('actions').addColumn('tracestate', 'text').execute();
}
