import type { Kysely } from 'kysely';
import { frozenText } from '../db/frozen-text.js';
import type { DB } from '../db/types.js';
import { withAnnotationDefaults } from './cel-env.js';
import { evaluatePolicy } from './evaluate.js';
import type { LoadedPolicy } from './store.js';

export interface ReplayChange {
  /** The candidate policy's rule that now decides (or "default"). */
  rule: string;
  from: string;
  to: string;
  count: number;
  examples: string[];
}

export interface ReplayReport {
  actions: number;
  unchanged: number;
  changes: ReplayChange[];
}

const PAGE = 1000;

const outcome = (effect: string, workflow: string | null | undefined) =>
  effect === 'review' ? `review (${workflow ?? 'default'})` : effect;

/**
 * Re-decides recorded actions under a candidate policy and counts, per rule,
 * how outcomes would change. Read-only: it never writes.
 */
export async function replayPolicy(db: Kysely<DB>, candidate: LoadedPolicy, since: number): Promise<ReplayReport> {
  const agents = new Map<string, { owner: string; labels: Record<string, string> }>();
  for (const a of await db
    .selectFrom('agents as a')
    .leftJoin('users as o', 'o.id', 'a.owner_id')
    .select(['a.id', 'a.labels', 'o.email'])
    .execute()) {
    agents.set(a.id, { owner: a.email ?? '', labels: JSON.parse(a.labels) as Record<string, string> });
  }
  const changes = new Map<string, ReplayChange>();
  let actions = 0;
  let unchanged = 0;
  let cursor = '';
  for (;;) {
    const rows = await db
      .selectFrom('actions')
      .select([
        'id',
        'agent_id',
        'agent_name',
        'tool',
        'arguments',
        'original_arguments',
        'resource',
        'annotations',
        'on_behalf_of',
        'session_id',
        'purpose',
        'metadata',
        // The decision as recorded, stored once per distinct text by its digest (migration 028).
        frozenText<string>('actions.policy_digest').as('policy'),
        'created_at',
      ])
      .where('created_at', '>=', since)
      .where('id', '>', cursor)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    for (const r of rows) {
      actions += 1;
      const agent = agents.get(r.agent_id) ?? { owner: '', labels: {} };
      const d = evaluatePolicy(candidate.compiled, {
        tool: r.tool,
        // What the agent proposed, not what a reviewer edited it into.
        arguments: JSON.parse(r.original_arguments ?? r.arguments) as Record<string, unknown>,
        resource: r.resource,
        annotations: withAnnotationDefaults(JSON.parse(r.annotations) as Record<string, unknown>),
        annotations_trusted: candidate.compiled.trustsAnnotations(r.agent_name, r.resource),
        agent: { name: r.agent_name, ...agent },
        on_behalf_of: r.on_behalf_of,
        session_id: r.session_id,
        purpose: r.purpose,
        metadata: JSON.parse(r.metadata) as Record<string, unknown>,
        now: new Date(Number(r.created_at)),
      });
      const before = JSON.parse(r.policy) as { effect: string; workflow?: string | null };
      const from = outcome(before.effect, before.workflow);
      const to = outcome(d.effect, d.workflow);
      if (from === to) {
        unchanged += 1;
        continue;
      }
      const key = `${d.rule}\u0000${from}\u0000${to}`;
      const c = changes.get(key) ?? { rule: d.rule, from, to, count: 0, examples: [] };
      c.count += 1;
      if (c.examples.length < 3) c.examples.push(r.id);
      changes.set(key, c);
    }
    if (rows.length < PAGE) break;
    cursor = rows[rows.length - 1]?.id ?? cursor;
  }
  return { actions, unchanged, changes: [...changes.values()].sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule)) };
}
