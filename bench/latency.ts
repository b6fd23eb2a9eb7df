/**
 * Decision latency: how long after a reviewer sends "approve" does an agent
 * that is already waiting have the decision in hand. Both the agent (waiter)
 * and the reviewer are HTTP clients in this process; the gateway runs in a
 * child process and is reached over loopback.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Reply, request as send } from './http-request.js';

export type Channel = 'long-poll' | 'sse';

export interface LatencyResult {
  channel: Channel;
  /** Review sent → waiter has the whole decision (ms), one per measured action. */
  samples: number[];
  /** Review POST round trip as the reviewer saw it (ms). */
  reviewRtt: number[];
  /**
   * The decision's own time (the action's `decided_at`, taken inside the deciding transaction, before its
   * commit) → waiter has it (ms). Both ends read the same machine's wall clock (the gateway in a child
   * process, the waiter here), to the millisecond `decided_at` carries: the review's request and response
   * legs are outside it, the commit and the wake-up inside.
   */
  fromDecision: number[];
}

/** Wall-clock ms of a performance.now() reading, comparable with a gateway's `decided_at` on this machine. */
const wallClock = (at: number) => performance.timeOrigin + at;

function sinceDecided(decidedAt: unknown, at: number): number {
  if (typeof decidedAt !== 'string') throw new Error(`the decided action carries no decided_at (${String(decidedAt)})`);
  return wallClock(at) - Date.parse(decidedAt);
}

export interface LatencyOptions {
  /** The gateway the agent proposes on and waits on. */
  url: string;
  /** The gateway the reviewer decides on (default `url`); another node measures the cross-node path. */
  reviewUrl?: string;
  agentKey: string;
  reviewerKey: string;
  iterations: number;
  warmup: number;
  /** Hard cap on the whole measurement. */
  timeLimitMs: number;
}

const REQUEST_TIMEOUT_MS = 35_000;

const request = (agent: http.Agent, base: URL, method: 'GET' | 'POST', path: string, key?: string, body?: unknown): Promise<Reply> =>
  send(agent, base, method, path, key, body, REQUEST_TIMEOUT_MS);

function expectStatus(r: Reply, status: number, what: string): void {
  if (r.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${r.status}: ${r.body.slice(0, 300)}`);
}

/** Polls /metrics until the gateway reports `n` waiters of `kind`: proof the waiter is parked, not still reading. */
async function untilWaiting(agent: http.Agent, base: URL, kind: 'long_poll' | 'sse', n: number): Promise<void> {
  const line = `countersign_waiters{kind="${kind}"} ${n}`;
  for (let i = 0; i < 200; i++) {
    const m = await request(agent, base, 'GET', '/metrics');
    if (m.body.split('\n').includes(line)) return;
    await sleep(1);
  }
  throw new Error(`the gateway never reported ${line}`);
}

async function createPending(agent: http.Agent, base: URL, key: string, i: number): Promise<string> {
  const r = await request(agent, base, 'POST', '/v1/actions', key, {
    tool: 'deploy',
    arguments: { service: 'api', build: i },
    purpose: 'decision latency benchmark',
  });
  expectStatus(r, 201, 'propose');
  const view = JSON.parse(r.body) as { id: string; status: string };
  if (view.status !== 'pending') throw new Error(`expected a pending action, got ${view.status}`);
  return view.id;
}

/** Opens `GET /v1/events?action=ID` and resolves once the stream is open (the server subscribes before its first write). */
function openStream(base: URL, key: string, actionId: string) {
  type Decided = { at: number; data: { action_id: string; action: { status: string; decided_at?: unknown } } };
  let resolveEvent: (v: Decided) => void = () => undefined;
  let rejectEvent: (e: Error) => void = () => undefined;
  const decided = new Promise<Decided>((res, rej) => {
    resolveEvent = res;
    rejectEvent = rej;
  });
  decided.catch(() => undefined);
  let req: http.ClientRequest | undefined;
  const opened = new Promise<void>((resolveOpen, rejectOpen) => {
    req = http.request(
      {
        agent: false,
        host: base.hostname,
        port: base.port,
        method: 'GET',
        path: `/v1/events?action=${encodeURIComponent(actionId)}`,
        headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          rejectOpen(new Error(`SSE: expected HTTP 200, got ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        let buf = '';
        let open = false;
        res.on('data', (chunk: string) => {
          buf += chunk;
          let end = buf.indexOf('\n\n');
          while (end !== -1) {
            const frame = buf.slice(0, end);
            buf = buf.slice(end + 2);
            end = buf.indexOf('\n\n');
            if (!open && frame.startsWith('retry:')) {
              open = true;
              resolveOpen();
              continue;
            }
            const lines = frame.split('\n');
            const type = lines.find((l) => l.startsWith('event: '))?.slice(7);
            const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
            if (type === 'action.approved' && data) resolveEvent({ at: performance.now(), data: JSON.parse(data) });
          }
        });
        res.on('error', (e) => rejectEvent(e));
        res.on('end', () => rejectEvent(new Error('SSE stream ended before the decision')));
      },
    );
    req.on('error', (e) => {
      rejectOpen(e);
      rejectEvent(e);
    });
    req.end();
  });
  return { opened, decided, close: () => req?.destroy() };
}

async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    t = setTimeout(() => rej(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

export async function measureDecisionLatency(channel: Channel, o: LatencyOptions): Promise<LatencyResult> {
  const base = new URL(o.url);
  const reviewBase = new URL(o.reviewUrl ?? o.url);
  // Separate keep-alive pools so the waiter, the reviewer and the setup calls never queue behind each other.
  const setupAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const waiterAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const reviewerAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  const reviewRtt: number[] = [];
  const fromDecision: number[] = [];
  const deadline = performance.now() + o.timeLimitMs;
  try {
    for (let i = 0; i < o.warmup + o.iterations; i++) {
      if (performance.now() > deadline) throw new Error(`${channel} latency run exceeded ${o.timeLimitMs} ms after ${i} actions`);
      const id = await createPending(setupAgent, base, o.agentKey, i);
      let latency: number;
      let rtt: number;
      let sinceDecision: number;
      if (channel === 'long-poll') {
        const waiting = request(waiterAgent, base, 'GET', `/v1/actions/${id}?wait=30`, o.agentKey);
        waiting.catch(() => undefined);
        await sleep(3);
        await untilWaiting(setupAgent, base, 'long_poll', 1);
        const t0 = performance.now();
        const reviewed = request(reviewerAgent, reviewBase, 'POST', `/v1/actions/${id}/reviews`, o.reviewerKey, { decision: 'approve' });
        const [w, r] = await withDeadline(Promise.all([waiting, reviewed]), 10_000, 'long-poll decision');
        expectStatus(r, 200, 'review');
        expectStatus(w, 200, 'long-poll');
        const view = JSON.parse(w.body) as { id: string; status: string; decided_at?: unknown };
        if (view.id !== id || view.status !== 'approved')
          throw new Error(`long-poll answered ${view.status} for ${view.id}, expected approved ${id}`);
        latency = w.at - t0;
        rtt = r.at - t0;
        sinceDecision = sinceDecided(view.decided_at, w.at);
      } else {
        const stream = openStream(base, o.agentKey, id);
        try {
          await withDeadline(stream.opened, 10_000, 'opening the SSE stream');
          await untilWaiting(setupAgent, base, 'sse', 1);
          const t0 = performance.now();
          const reviewed = request(reviewerAgent, reviewBase, 'POST', `/v1/actions/${id}/reviews`, o.reviewerKey, { decision: 'approve' });
          let reviewAnswered = false;
          reviewed.then(() => (reviewAnswered = true)).catch(() => undefined);
          const [e, r] = await withDeadline(Promise.all([stream.decided, reviewed]), 10_000, 'SSE decision').catch((err: Error) => {
            // Say which side stalled: the review's answer or the event to the waiting stream.
            throw new Error(`${err.message} (review ${reviewAnswered ? 'answered' : 'not answered'}; action ${id})`);
          });
          expectStatus(r, 200, 'review');
          if (e.data.action_id !== id || e.data.action.status !== 'approved')
            throw new Error(`SSE delivered ${e.data.action.status} for ${e.data.action_id}`);
          latency = e.at - t0;
          rtt = r.at - t0;
          sinceDecision = sinceDecided(e.data.action.decided_at, e.at);
        } finally {
          stream.close();
        }
        // Let the server see the close so the next iteration's waiter count starts from zero.
        await untilWaiting(setupAgent, base, 'sse', 0);
      }
      if (i >= o.warmup) {
        samples.push(latency);
        reviewRtt.push(rtt);
        fromDecision.push(sinceDecision);
      }
    }
  } finally {
    setupAgent.destroy();
    waiterAgent.destroy();
    reviewerAgent.destroy();
  }
  return { channel, samples, reviewRtt, fromDecision };
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The floor under (b): sequential POST round trips to the bare echo server with the same client code. */
export async function measureEchoRoundTrip(url: string, iterations: number, warmup: number): Promise<number[]> {
  const base = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const t0 = performance.now();
      const r = await request(agent, base, 'POST', '/v1/actions', undefined, { decision: 'approve', i });
      expectStatus(r, 200, 'echo');
      if (i >= warmup) samples.push(r.at - t0);
    }
  } finally {
    agent.destroy();
  }
  return samples;
}
