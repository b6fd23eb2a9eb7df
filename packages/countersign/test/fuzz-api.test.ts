import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, test } from 'node:test';
import { verifyAudit } from '../src/domain/audit/verify-audit.js';
import { FUZZ_POLICY, type FuzzContext, type FuzzRequest, makeRequest, operationsOf, seededRng } from './fuzz-requests.js';
import { call, forEachDialect, propose, type World, withPolicy, world } from './helpers.js';

/** Enough to reach every route many times over, small enough for CI on a shared 2-core machine. */
const REQUESTS = { sqlite: 3000, postgres: 1200 } as const;
const CONCURRENCY = 8;
/** An event stream or a long-poll is held open by design: it is dropped after HOLD_MS. */
const HOLD_MS = 1500;
/** Anything else without an answer this long is a stall (generous: CI shares two cores). */
const STALL_MS = 10_000;
const holdsByDesign = (r: FuzzRequest) => /^\/v1\/events|wait=/.test(r.url);

export interface FuzzOutcome {
  status: number | 'held' | 'stalled';
  request: FuzzRequest;
  body?: string;
}

/** Sends one request in-process; a stream or long-poll still open after HOLD_MS is held, anything else after STALL_MS stalled. */
async function send(w: World, r: FuzzRequest): Promise<FuzzOutcome> {
  // Not AbortSignal.timeout: its timer is unref'd, and a held request alone would let the loop end.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), holdsByDesign(r) ? HOLD_MS : STALL_MS);
  try {
    const res = await w.gw.app.inject({
      method: r.method as 'GET' | 'POST',
      url: r.url,
      headers: r.headers,
      ...(r.body === undefined ? {} : { payload: r.body }),
      signal: abort.signal,
    });
    return { status: res.statusCode, request: r, body: res.body.slice(0, 500) };
  } catch (e) {
    if (abort.signal.aborted) return { status: holdsByDesign(r) ? 'held' : 'stalled', request: r };
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Known ids of every kind, so fuzzed requests reach past "not found". */
async function seed(w: World): Promise<string[]> {
  const pending = await propose(w, { arguments: { env: 'production' } });
  const approved = await call(w, 'POST', '/v1/actions?redeem=true', w.keys.agent, { tool: 'read', arguments: {} });
  const batch = await call(w, 'POST', '/v1/actions/batch', w.keys.agent, { actions: [{ tool: 'deploy', arguments: { b: 1 } }] });
  const source = await propose(w, { arguments: { env: 'staging' } });
  await call(w, 'POST', `/v1/actions/${source.body.id}/reviews`, w.keys.alice, { decision: 'approve', grant: {} });
  const grants = await call(w, 'GET', '/v1/grants', w.keys.ada);
  return [pending.body.id, approved.body.id, batch.body.batch_id, batch.body.actions[0].id, source.body.id, grants.body.items[0].id];
}

forEachDialect('fuzzing every route of the OpenAPI document', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { config: withPolicy(FUZZ_POLICY) });
  });
  after(async () => w.close());

  test('no fuzzed request gets a 5xx, and the gateway is healthy afterwards', async (t) => {
    const seedValue = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));
    t.diagnostic(`seed ${seedValue} (replay with FUZZ_SEED=${seedValue})`);
    const rng = seededRng(seedValue);
    const doc = (await call(w, 'GET', '/openapi.json')).body;
    const ops = operationsOf(doc);
    assert.ok(ops.length >= 15, `the document lists every route (${ops.length})`);
    const ctx: FuzzContext = {
      keys: {
        agent: w.keys.agent,
        otherAgent: w.keys.otherAgent,
        reviewer: w.keys.alice,
        owner: w.keys.bob,
        viewer: w.keys.victor,
        admin: w.keys.ada,
        none: null,
      },
      ids: await seed(w),
      latin1Headers: false,
    };
    const requests = Array.from({ length: REQUESTS[dialect] }, (_, i) =>
      makeRequest(doc, ops[i % ops.length] as (typeof ops)[number], ctx, rng),
    );
    const outcomes: FuzzOutcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) outcomes.push(await send(w, requests[next++] as FuzzRequest));
      }),
    );
    const histogram: Record<string, number> = {};
    for (const o of outcomes) histogram[o.status] = (histogram[o.status] ?? 0) + 1;
    t.diagnostic(`${dialect}: ${outcomes.length} requests over ${ops.length} operations: ${JSON.stringify(histogram)}`);
    const failures = outcomes.filter((o) => o.status === 'stalled' || (typeof o.status === 'number' && o.status >= 500));
    assert.deepEqual(
      failures.slice(0, 5).map((o) => ({
        status: o.status,
        method: o.request.method,
        url: o.request.url.slice(0, 200),
        body: o.body,
        sent: String(o.request.body ?? '').slice(0, 300),
      })),
      [],
      'no 5xx and no stalled request',
    );

    assert.equal((await call(w, 'GET', '/healthz')).status, 200);
    assert.equal((await propose(w, { arguments: { after: 'fuzz' } })).status, 201, 'a normal proposal still works');
    assert.equal((await verifyAudit(w.gw.deps.db.read)).ok, true, 'the audit chain verifies');
  });
});
