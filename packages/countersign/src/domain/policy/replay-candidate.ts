import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { frozenText } from '../../db/frozen-text.js';
import type { Deps } from '../../deps.js';
import { withAnnotationDefaults } from '../../policy/cel-env.js';
import { evaluatePolicy } from '../../policy/evaluate.js';
import { parseInput } from '../validate.js';
import { compileCandidate } from './evaluate-action.js';
import { type PolicyReplay, ReplayPolicyBody } from './evaluate-schemas.js';

const PAGE = 500;
const MAX_ITEMS = 500;
const DEFAULT_LIMIT = 1000;

type Before = { effect: 'allow' | 'deny' | 'review'; rule: string; workflow: string | null };

const outcome = (effect: string, workflow: string | null | undefined) =>
  effect === 'review' ? `review (${workflow ?? 'default'})` : effect;

/**
 * Re-decides the latest actions under a candidate policy and says what would change; writes nothing.
 * Each action is decided on what it was proposed with: the arguments as the agent sent them (not a
 * reviewer's edit), its annotations, resource, purpose, metadata, the agent's owner when it proposed
 * (frozen on the action) and the time it was proposed; trust in annotations is the candidate's own
 * `trust_annotations`. Agent labels are not frozen per action, so the agent's current labels are used.
 * Rows are read in pages, yielding to the event loop between them, so a long replay blocks nothing.
 */
export async function replayCandidate(deps: Deps, body: unknown): Promise<PolicyReplay> {
  const input = parseInput(ReplayPolicyBody, body);
  const candidate = compileCandidate(deps, input.candidate);
  const limit = input.limit ?? DEFAULT_LIMIT;
  const since = input.since === undefined ? undefined : Date.parse(input.since);
  const db = deps.db.read;
  const transitions = new Map<string, { from: string; to: string; count: number }>();
  const items: PolicyReplay['items'] = [];
  let scanned = 0;
  let changed = 0;
  let cursor: { at: number; id: string } | undefined;
  while (scanned < limit) {
    let q = db
      .selectFrom('actions as a')
      // The owner recorded on the action (who owned the agent when it proposed); labels are the agent's current ones.
      .leftJoin('users as o', 'o.id', 'a.agent_owner_id')
      .leftJoin('agents as g', 'g.id', 'a.agent_id')
      .select([
        'a.id',
        'a.agent_name',
        'a.tool',
        'a.arguments',
        'a.original_arguments',
        'a.resource',
        'a.annotations',
        'a.on_behalf_of',
        'a.session_id',
        'a.purpose',
        'a.metadata',
        // The decision as recorded, stored once per distinct text by its digest (migration 028).
        frozenText<string>('a.policy_digest').as('policy'),
        'a.status',
        'a.created_at',
        'o.email as owner_email',
        'g.labels as agent_labels',
      ])
      .orderBy('a.created_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(Math.min(PAGE, limit - scanned));
    if (since !== undefined) q = q.where('a.created_at', '>=', since);
    const c = cursor;
    if (c !== undefined) {
      q = q.where((eb) => eb.or([eb('a.created_at', '<', c.at), eb.and([eb('a.created_at', '=', c.at), eb('a.id', '<', c.id)])]));
    }
    const rows = await q.execute();
    for (const r of rows) {
      scanned += 1;
      const created = Number(r.created_at);
      const d = evaluatePolicy(candidate.compiled, {
        tool: r.tool,
        // What the agent proposed, not what a reviewer edited it into.
        arguments: JSON.parse(r.original_arguments ?? r.arguments) as Record<string, unknown>,
        resource: r.resource,
        annotations: withAnnotationDefaults(JSON.parse(r.annotations) as Record<string, unknown>),
        annotations_trusted: candidate.compiled.trustsAnnotations(r.agent_name, r.resource),
        agent: {
          name: r.agent_name,
          owner: r.owner_email ?? '',
          labels: JSON.parse(r.agent_labels ?? '{}') as Record<string, string>,
        },
        on_behalf_of: r.on_behalf_of,
        session_id: r.session_id,
        purpose: r.purpose,
        metadata: JSON.parse(r.metadata) as Record<string, unknown>,
        now: new Date(created),
      });
      const stored = JSON.parse(r.policy) as { effect: Before['effect']; rule: string; workflow?: string | null };
      const before: Before = { effect: stored.effect, rule: stored.rule, workflow: stored.workflow ?? null };
      const from = outcome(before.effect, before.workflow);
      const to = outcome(d.effect, d.workflow);
      if (from === to) continue;
      changed += 1;
      const key = `${from}\u0000${to}`;
      const t = transitions.get(key) ?? { from, to, count: 0 };
      t.count += 1;
      transitions.set(key, t);
      if (items.length < MAX_ITEMS) {
        items.push({
          id: r.id,
          tool: r.tool,
          agent: r.agent_name,
          status: r.status,
          created_at: new Date(created).toISOString(),
          before,
          after: { ...d, errors: [...d.errors] },
        });
      }
    }
    const last = rows[rows.length - 1];
    if (last === undefined || rows.length < PAGE) break;
    cursor = { at: Number(last.created_at), id: last.id };
    await yieldToLoop();
  }
  return {
    policy: { hash: candidate.hash },
    scanned,
    unchanged: scanned - changed,
    changed,
    transitions: [...transitions.values()].sort((a, b) => b.count - a.count || a.from.localeCompare(b.from)),
    items,
    truncated: changed > items.length,
  };
}
