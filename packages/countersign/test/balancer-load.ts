/**
 * The load of the multi-node test: agents proposing through @countersign/sdk (guard(), as agent code does),
 * reviewers deciding, long-poll waiters and event-stream followers, all through one URL (the balancer).
 * It only counts what each side was told; the test compares that with the database.
 */
import { type Action, type Client, CountersignError, createClient, isRefusal } from '@countersign/sdk';

export interface Tally {
  /** Proposals sent (POST /v1/actions, each attempt the SDK made). */
  sent: number;
  /** Proposals answered 2xx, by action id, with the status the agent was first told. */
  acknowledged: Map<string, string>;
  /** Runs of a tool, by action id (the tool function itself counts them). */
  runs: Map<string, number>;
  /** Calls that ran, were refused by a reviewer, or were withheld: guard() would not run them because an
   * earlier attempt, whose answer was lost with the node, had spent the receipt (at most once, never twice). */
  outcomes: { ran: number; refused: number; withheld: number };
  /** Long-poll waiters started and answered with a decision. */
  longPolls: { started: number; answered: number };
  /** Votes that found the action already decided (the other reviewer, or the same vote sent again). */
  conflicts: number;
}

export function newTally(): Tally {
  return {
    sent: 0,
    acknowledged: new Map(),
    runs: new Map(),
    outcomes: { ran: 0, refused: 0, withheld: 0 },
    longPolls: { started: 0, answered: 0 },
    conflicts: 0,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DECIDED = new Set(['approved', 'denied', 'expired', 'cancelled', 'executed', 'failed']);

/** The balancer's 502/503 (a node died mid-request) and a dropped connection: worth trying again. */
export function transient(e: unknown): boolean {
  return e instanceof CountersignError && (e.code === 'unavailable' || (e.status ?? 0) >= 500);
}

/**
 * The agent's transport, instrumented: counts every proposal sent and records each one acknowledged, so
 * "acknowledged" means exactly what the agent was told, retries by the balancer included.
 */
function recordingFetch(t: Tally, onPending: (id: string) => void): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const proposal = init?.method === 'POST' && url.pathname === '/v1/actions';
    if (proposal) t.sent += 1;
    const res = await fetch(input, init);
    if (proposal && res.ok) {
      const body = (await res.clone().json()) as Action;
      // The first answer is what the agent was told about a new action; a replay only re-reads it.
      if (!t.acknowledged.has(body.id)) {
        t.acknowledged.set(body.id, body.status);
        if (body.status === 'pending') onPending(body.id);
      }
    }
    return res;
  };
}

export interface LoadOptions {
  url: string;
  agentKeys: string[];
  /** Read-only key for the long-poll waiters. */
  watcherKey: string;
  workers: number;
  callsPerWorker: number;
}

/** Agents at work: every other call is allowed by the policy (read_logs), the others wait for a person (deploy). */
export function runAgents(o: LoadOptions, t: Tally): { done: Promise<void>; waiters: Promise<void>[] } {
  const waiters: Promise<void>[] = [];
  const watcher = createClient({ url: o.url, apiKey: o.watcherKey });
  const onPending = (id: string) => {
    t.longPolls.started += 1;
    waiters.push(longPollUntilDecided(watcher, id, t));
  };
  const clients = o.agentKeys.map((apiKey) => createClient({ url: o.url, apiKey, fetch: recordingFetch(t, onPending) }));
  const work = async (w: number) => {
    const cs = clients[w % clients.length] as Client;
    const tool = (name: string) =>
      cs.guard(
        async (_args: { n: number }, ctx) => {
          const id = ctx.action?.id as string;
          t.runs.set(id, (t.runs.get(id) ?? 0) + 1);
          return { ok: true };
        },
        { tool: name, timeout: 25_000 },
      );
    const readLogs = tool('read_logs');
    const deploy = tool('deploy');
    for (let i = 0; i < o.callsPerWorker; i++) {
      const n = w * 1000 + i;
      await callOnce(i % 2 === 0 ? readLogs : deploy, { n }, `w${w}-c${i}`, t);
    }
  };
  const done = Promise.all(Array.from({ length: o.workers }, (_, w) => work(w))).then(() => undefined);
  return { done, waiters };
}

/** One tool call, made again with the same tool-call id after a transient failure, as agent frameworks do. */
async function callOnce(
  fn: (args: { n: number }, ctx: { toolCallId: string }) => Promise<unknown>,
  args: { n: number },
  toolCallId: string,
  t: Tally,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const out = await fn(args, { toolCallId });
      if (isRefusal(out)) t.outcomes.refused += 1;
      else t.outcomes.ran += 1;
      return;
    } catch (e) {
      if (e instanceof CountersignError && e.code === 'receipt_used') {
        // The receipt was spent by an attempt whose answer was lost: guard() will not risk a second run.
        t.outcomes.withheld += 1;
        return;
      }
      if (!transient(e) || attempt >= 8) throw e;
      await sleep(100);
    }
  }
}

/** A long-poll waiter (GET /v1/actions/:id?wait=), parked until the action is decided, whichever node holds it. */
async function longPollUntilDecided(cs: Client, id: string, t: Tally): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const a = await cs.request<Action>('GET', `/v1/actions/${id}?wait=15`);
      if (DECIDED.has(a.status)) {
        t.longPolls.answered += 1;
        return;
      }
    } catch (e) {
      if (!transient(e)) throw e;
      await sleep(100);
    }
  }
  throw new Error(`long-poll waiter for ${id} never answered with a decision`);
}

/** A reviewer deciding its half (`half`: 0 or 1, by id) of whatever is pending, every fourth call denied, until told to stop. */
export async function review(url: string, key: string, t: Tally, stop: () => boolean, half: 0 | 1): Promise<void> {
  const share = (id: string) => id.charCodeAt(id.length - 1) % 2 === half;
  const cs = createClient({ url, apiKey: key });
  while (!stop()) {
    try {
      const list = await cs.request<{ items: Action[] }>('GET', '/v1/actions?status=pending&limit=100');
      await Promise.all(
        list.items
          .filter((x) => share(x.id))
          .map(async (a) => {
            const n = Number((a.arguments as { n?: number }).n ?? 0);
            try {
              await cs.review(a.id, n % 4 === 1 ? { decision: 'deny', reason: 'not now' } : { decision: 'approve' });
            } catch (e) {
              if (e instanceof CountersignError && e.code === 'conflict') t.conflicts += 1;
              else if (!transient(e)) throw e;
            }
          }),
      );
    } catch (e) {
      if (!transient(e)) throw e;
    }
    await sleep(40);
  }
}

/** Follows the agent's decisions over SSE (resuming after the last event id on any node) from `after`. */
export function follow(url: string, key: string, after: number, signal: AbortSignal): { seen: Set<string>; done: Promise<void> } {
  const seen = new Set<string>();
  const cs = createClient({ url, apiKey: key });
  const done = (async () => {
    for await (const ev of cs.events({ types: ['action.approved', 'action.denied'] }, { after, signal }))
      if (ev.action_id) seen.add(ev.action_id);
  })();
  return { seen, done };
}
