import type { NotifyRoute } from '../../config/notify-schema.js';
import type { Deps } from '../../deps.js';
import { selectActionRows, workflowsNamed } from '../../domain/actions/action-rows.js';
import type { ActionView } from '../../domain/actions/schemas.js';
import { toActionView } from '../../domain/actions/view.js';
import { assertNever } from '../../lib/errors.js';
import { resolveRecipients } from '../recipients.js';

/** The most actions one digest looks at: the oldest deadlines first; the rest are counted, not listed. */
export const DIGEST_MAX_ACTIONS = 100;

export interface DigestRecipient {
  address: string;
  userId: string | null;
  actions: ActionView[];
}

export interface DigestContent {
  recipients: DigestRecipient[];
  /** Pending actions the route covers beyond the ones looked at. */
  more: number;
}

/**
 * What a digest route's recipients are told now: the pending actions of its workflow (and stage), oldest
 * deadline first. Approvers get the ones whose current stage they may decide (the same people a per-action
 * message would reach: never the agent's owner unless named, the person acted for, or who already voted);
 * a shared address gets them all. A recipient with nothing waiting gets no digest.
 */
export async function collectDigest(deps: Deps, route: NotifyRoute): Promise<DigestContent> {
  let q = selectActionRows(deps.db.read).where('status', '=', 'pending').where('workflow_digest', 'is not', null);
  if (route.workflow !== '*') q = q.where('workflow_digest', 'in', workflowsNamed(deps.db.read, route.workflow));
  const rows = await q
    .orderBy('expires_at', 'asc')
    .orderBy('id', 'asc')
    .limit(DIGEST_MAX_ACTIONS + 1)
    .execute();
  const ids = rows.slice(0, DIGEST_MAX_ACTIONS).map((r) => r.id);
  const reviews = ids.length === 0 ? [] : await deps.db.read.selectFrom('reviews').selectAll().where('action_id', 'in', ids).execute();
  const views = rows
    .slice(0, DIGEST_MAX_ACTIONS)
    .map((r) =>
      toActionView(
        r,
        reviews.filter((v) => v.action_id === r.id),
      ),
    )
    .filter((v) => route.stage === undefined || v.workflow?.stage.name === route.stage);

  const byAddress = new Map<string, DigestRecipient>();
  const add = (address: string, userId: string | null, view: ActionView) => {
    const key = address.toLowerCase();
    const r = byAddress.get(key) ?? { address, userId, actions: [] };
    r.actions.push(view);
    byAddress.set(key, r);
  };
  for (const view of views) {
    for (const t of route.to) {
      switch (t.kind) {
        case 'approvers': {
          const approvers = view.workflow?.stage.approvers;
          if (t.channel !== 'email') break; // refused for a digest route by its schema
          if (approvers) for (const p of await resolveRecipients(deps.db.read, view, approvers)) add(p.email, p.id, view);
          break;
        }
        case 'email':
          add(t.address, null, view);
          break;
        case 'slack':
        case 'teams_channel':
        case 'teams_webhook':
          break; // refused for a digest route by its schema: a digest goes by email
        default:
          assertNever(t, 'notification target');
      }
    }
  }
  return { recipients: [...byAddress.values()], more: Math.max(0, rows.length - DIGEST_MAX_ACTIONS) };
}
