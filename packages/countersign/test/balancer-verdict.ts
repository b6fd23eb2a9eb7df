/** What the clients of the multi-node test were told, held against the database the three nodes share. */
import type { Deps } from '../src/deps.js';
import type { Tally } from './balancer-load.js';

/** The statuses an action may have reached from the one its agent was told. */
const REACHABLE: Record<string, string[]> = {
  pending: ['approved', 'denied', 'executed', 'failed'],
  approved: ['approved', 'executed', 'failed'],
  denied: ['denied'],
};

export interface Verdict {
  /** Acknowledged actions missing, or stored in a state the acknowledgement rules out. */
  lost: string[];
  /** Actions a tool ran for more than once. */
  ranTwice: string[];
  /** Actions whose receipt the audit trail shows redeemed more than once. */
  redeemedTwice: string[];
  /** Actions stored as executed that no agent ran. */
  executedUnknown: string[];
  /** Runs without a redeemed receipt. */
  ranUnredeemed: string[];
  /** Runs whose result report died with the node (the action stays approved and redeemed: never run again). */
  resultLost: number;
  /** Acknowledged actions a person decided (pending when acknowledged): the event streams must show them. */
  decidedByPeople: string[];
}

export async function verdict(db: Deps['db']['read'], t: Tally): Promise<Verdict> {
  const ids = [...t.acknowledged.keys()];
  const rows = await db.selectFrom('actions').select(['id', 'status', 'redeemed_at']).where('id', 'in', ids).execute();
  const stored = new Map(rows.map((r) => [r.id, r]));
  const redeemed = await db
    .selectFrom('audit_log')
    .select(['action_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('event', '=', 'receipt.redeemed')
    .groupBy('action_id')
    .having((eb) => eb.fn.countAll(), '>', 1)
    .execute();
  const runs = [...t.runs.keys()];
  return {
    lost: ids.filter((id) => !REACHABLE[t.acknowledged.get(id) as string]?.includes(stored.get(id)?.status ?? 'missing')),
    ranTwice: [...t.runs].filter(([, n]) => n > 1).map(([id]) => id),
    redeemedTwice: redeemed.map((r) => r.action_id as string),
    executedUnknown: rows.filter((r) => r.status === 'executed' && !t.runs.has(r.id)).map((r) => r.id),
    ranUnredeemed: runs.filter((id) => stored.get(id)?.redeemed_at === null),
    resultLost: runs.filter((id) => stored.get(id)?.status === 'approved').length,
    decidedByPeople: ids.filter((id) => t.acknowledged.get(id) === 'pending' && stored.get(id)?.status !== 'pending'),
  };
}

/** Requests HAProxy sent again (to another node: `option redispatch 1`), from the retries field of its log lines. */
export function balancerRetries(log: string): number {
  let n = 0;
  for (const m of log.matchAll(/ \d+\/\d+\/\d+\/\d+\/\+?(\d+) \d+\/\d+ "/g)) n += Number(m[1]) > 0 ? 1 : 0;
  return n;
}
