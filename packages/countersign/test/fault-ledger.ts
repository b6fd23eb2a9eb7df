import type { FastifyInstance } from 'fastify';
import { withPolicy } from './helpers.js';

/** The fault suites' policy: `read_metrics` is allowed at once (a proposal to run), anything else goes to review. */
export const FAULT_POLICY = withPolicy(`
policy:
  default: review
  rules:
    - { name: reads, when: 'tool == "read_metrics"', effect: allow }
`);
/**
 * The books a fault test keeps while it loads a gateway: every request sent, what it was told, and which
 * answers licensed a run. "Acknowledged" is a 2xx for a write; "executed" is an answer that lets an
 * executor run the action: 201 to POST /v1/actions?redeem=true with the action approved and redeemed, or
 * 200 to POST /v1/receipts/redeem. An idempotent replay (200 to the proposal) is never a licence, which is
 * the SDK's rule too: a replayed, redeemed action "may already have run".
 */
export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies; the tests check their shape
  body: any;
  headers: Record<string, unknown>;
}

export type Send = (method: 'GET' | 'POST', path: string, key: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>;

export class Ledger {
  sent = 0;
  /** Answered 2xx. */
  acknowledged = 0;
  /** Answered 503 `unavailable` (retry later): never acknowledged, so never owed. */
  unavailable = 0;
  /** No answer at all (the connection was cut by a crash). */
  cutOff = 0;
  /** Anything else: a fault test fails on any of these. */
  readonly unexpected: string[] = [];
  /** Proposals acknowledged (201 or a 200 replay), by idempotency key. */
  readonly proposals = new Map<string, string>();
  /** Licences to run, per action id. */
  readonly licences = new Map<string, number>();
  /** The `details.reason` of each 503, counted. */
  readonly reasons = new Map<string, number>();
  /** What the test is doing to the gateway now; each answer is counted under the phase its request was sent in. */
  phase = 'before';
  /** Answers by phase and HTTP status (0: cut off). */
  readonly byPhase = new Map<string, Map<number, number>>();

  /** How many requests sent in `phase` were answered `status` (or with anything, without `status`). */
  count(phase: string, status?: number): number {
    const m = this.byPhase.get(phase);
    if (!m) return 0;
    return status === undefined ? [...m.values()].reduce((s, n) => s + n, 0) : (m.get(status) ?? 0);
  }

  private file(phase: string, status: number): void {
    const m = this.byPhase.get(phase) ?? new Map<number, number>();
    m.set(status, (m.get(status) ?? 0) + 1);
    this.byPhase.set(phase, m);
  }

  /** Sends through `send` and files the answer; a rejected request counts as cut off and resolves undefined. */
  async track(what: string, request: () => Promise<Answer>): Promise<Answer | undefined> {
    this.sent += 1;
    const phase = this.phase;
    let a: Answer;
    try {
      a = await request();
    } catch {
      this.cutOff += 1;
      this.file(phase, 0);
      return undefined;
    }
    this.file(phase, a.status);
    if (a.status >= 200 && a.status < 300) this.acknowledged += 1;
    else if (a.status === 503 && a.body?.error?.code === 'unavailable') {
      this.unavailable += 1;
      const reason = String(a.body.error.details?.reason ?? 'none');
      this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      if (a.headers['retry-after'] === undefined) this.unexpected.push(`${what}: 503 without Retry-After`);
    } else this.unexpected.push(`${what}: ${a.status} ${JSON.stringify(a.body).slice(0, 300)}`);
    return a;
  }

  /** Files an answer that licenses a run of `actionId`. */
  licence(actionId: string): void {
    this.licences.set(actionId, (this.licences.get(actionId) ?? 0) + 1);
  }

  /** Actions some answer licensed more than once (must be none). */
  executedTwice(): string[] {
    return [...this.licences].filter(([, n]) => n > 1).map(([id]) => id);
  }

  /** One line for the test's diagnostics (and the report): the figures the fault issue asks for. */
  summary(lost: number): string {
    const reasons = [...this.reasons].map(([r, n]) => `${r}=${n}`).join(',');
    return (
      `sent ${this.sent}, acknowledged ${this.acknowledged}, unavailable ${this.unavailable}${reasons ? ` (${reasons})` : ''}, ` +
      `cut off ${this.cutOff}, lost ${lost}, executed ${this.licences.size}, executed twice ${this.executedTwice().length}`
    );
  }
}

/** Runs `worker` on `n` concurrent loops until `until()` resolves; each loop pauses `pauseMs` after a 503, as Retry-After asks. */
export async function loadUntil(n: number, until: Promise<unknown>, worker: (loop: number, i: number) => Promise<Answer | undefined>) {
  let done = false;
  void until.then(() => {
    done = true;
  });
  await Promise.all(
    Array.from({ length: n }, async (_, loop) => {
      for (let i = 0; !done; i++) {
        const a = await worker(loop, i);
        // A client told to come back later does, instead of spinning on a refused connection.
        if (a === undefined || a.status === 503) await new Promise((r) => setTimeout(r, 25));
        // In-process requests on SQLite can settle in microtasks alone; yield so timers (the test's timeline) run.
        else await new Promise((r) => setImmediate(r));
      }
    }),
  );
}

/** Requests to an in-process gateway (Fastify inject), the gateway read when each is sent (tests restart it). */
export function injectSender(gateway: () => { app: FastifyInstance }): Send {
  return async (method, path, key, body, headers = {}) => {
    const res = await gateway().app.inject({
      method,
      url: path,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : JSON.parse(res.body), headers: res.headers };
  };
}

export interface RefusedProposal {
  key: string;
  body: Record<string, unknown>;
  redeem: boolean;
}

/**
 * A proposal with its idempotency key, booked: an acknowledged one is remembered by key, an allowed one
 * redeemed with it (one request per run, as guard() does) is a licence, and a 503 is kept to retry later.
 */
export function proposalTracker(ledger: Ledger, send: Send, agentKey: () => string, refused: RefusedProposal[]) {
  return async (key: string, body: Record<string, unknown>, redeem: boolean): Promise<Answer | undefined> => {
    const a = await ledger.track(`propose ${key}`, () =>
      send('POST', `/v1/actions${redeem ? '?redeem=true' : ''}`, agentKey(), body, { 'idempotency-key': key }),
    );
    if (a?.status === 201 || a?.status === 200) {
      ledger.proposals.set(key, a.body.id);
      if (a.status === 201 && a.body.redeemed === true) ledger.licence(a.body.id);
    } else if (a?.status === 503) refused.push({ key, body, redeem });
    return a;
  };
}

export interface MixedLoad {
  ledger: Ledger;
  send: Send;
  propose: ReturnType<typeof proposalTracker>;
  reviewerKey: () => string;
  /** Actions a review approved (answered 200). */
  approved: Set<string>;
  /** Characters of padding in each proposal's arguments (to fill a disk faster). */
  pad?: number;
}

/**
 * One request of a fault suite's mixed load, by loop: an allowed call redeemed at once, a call sent for
 * review, or the approval of one of those (a list read while none waits).
 */
export function mixedLoadStep(o: MixedLoad): (loop: number, i: number) => Promise<Answer | undefined> {
  const pending: string[] = [];
  const pad = (c: string) => (o.pad ? { pad: c.repeat(o.pad) } : {});
  return async (loop, i) => {
    switch (loop % 3) {
      case 0:
        return o.propose(`run-${loop}-${i}`, { tool: 'read_metrics', arguments: { loop, i, ...pad('x') } }, true);
      case 1: {
        const a = await o.propose(`ask-${loop}-${i}`, { tool: 'deploy', arguments: { loop, i, ...pad('y') } }, false);
        if (a?.status === 201) pending.push(a.body.id);
        return a;
      }
      default: {
        const id = pending.shift();
        if (id === undefined) return o.ledger.track('list', () => o.send('GET', '/v1/actions?limit=5', o.reviewerKey()));
        const a = await o.ledger.track(`approve ${id}`, () =>
          o.send('POST', `/v1/actions/${id}/reviews`, o.reviewerKey(), { decision: 'approve' }),
        );
        if (a?.status === 200) o.approved.add(id);
        return a;
      }
    }
  };
}
