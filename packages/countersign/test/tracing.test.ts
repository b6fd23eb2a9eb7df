/*
 * OpenTelemetry traces, recorded by the real SDK (BasicTracerProvider + InMemorySpanExporter) the way an
 * operator's exporter would receive them: an agent's proposal, a person's decision minutes later, the
 * redemption and the result, all in the agent's trace, with the wait for the person as a span of its own.
 */
// biome-ignore-all lint/suspicious/noExplicitAny: gateway JSON bodies; the tests assert their shape
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { createClient } from '@countersign/sdk';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { FakeClock } from '../src/lib/clock.js';
import { createTracing } from '../src/telemetry/tracing.js';
import { startTracingSdk, tracesRequested } from '../src/telemetry/tracing-sdk.js';
import { call, forEachDialect, propose, review, type World, world } from './helpers.js';

const AGENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const AGENT_SPAN = 'b7ad6b7169203331';
const AGENT_REDEEM_SPAN = '00f067aa0ba902b7';
const REVIEWER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

const byName = (spans: ReadableSpan[], name: string) => {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one ${name} span (got ${spans.map((s) => s.name).join(', ')})`);
  return found[0] as ReadableSpan;
};
const seconds = (hr: [number, number]) => hr[0] + hr[1] / 1e9;

test('without an SDK registered, tracing is off; with a provider given, it is on', () => {
  assert.equal(createTracing().enabled, false, 'the API alone is a no-op: nothing is traced, nothing allocated');
  assert.equal(createTracing(new BasicTracerProvider()).enabled, true);
});

test('the SDK is started only when the standard OTEL_ variables ask for traces', async () => {
  assert.equal(tracesRequested({}), false);
  assert.equal(tracesRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
  assert.equal(tracesRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
  assert.equal(tracesRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }), false);
  assert.equal(tracesRequested({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }), false);
  assert.equal(await startTracingSdk({}), null, 'nothing is loaded without them');
  // @opentelemetry/sdk-node is not installed here (it is the operator's optional install): start-up says so.
  await assert.rejects(startTracingSdk({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), /npm install @opentelemetry\/sdk-node/);
});

forEachDialect('OpenTelemetry traces', (dialect) => {
  let w: World;
  const clock = new FakeClock();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  before(async () => {
    w = await world(dialect, {
      clock,
      tracerProvider: provider,
      listen: true,
      trustAnnotationsOf: ['deployer'],
      // Short deadlines: the fake clock fires every periodic timer on its way, so less time is a faster test.
      config: (c) => ({ ...c, review: { defaultExpiryMs: 5 * 60_000 } }),
    });
  });
  after(async () => {
    await w?.close();
    await provider.shutdown();
  });
  afterEach(() => exporter.reset());

  test('a reviewed action is one trace: proposal, the wait for the person, redemption and result', async () => {
    const proposed = await propose(w, {}, w.keys.agent, {
      traceparent: `00-${AGENT_TRACE}-${AGENT_SPAN}-01`,
      tracestate: 'agentvendor=opaque',
    });
    assert.equal(proposed.status, 201);
    const id = proposed.body.id as string;
    assert.equal(proposed.body.status, 'pending');
    await clock.advance(3 * 60_000); // three minutes before anyone looks at it
    const decided = await call(
      w,
      'POST',
      `/v1/actions/${id}/reviews`,
      w.keys.alice,
      { decision: 'approve' },
      {
        traceparent: `00-${REVIEWER_TRACE}-a3ce929d0e0e4736-01`,
      },
    );
    assert.equal(decided.body.status, 'approved');
    await w.gw.consumerRunner.tick();
    const run = { id, tool: decided.body.tool, arguments: decided.body.arguments, resource: decided.body.resource };
    const redeemed = await call(
      w,
      'POST',
      '/v1/receipts/redeem',
      w.keys.agent,
      { receipt: decided.body.receipt, action: run },
      {
        traceparent: `00-${AGENT_TRACE}-${AGENT_REDEEM_SPAN}-01`,
      },
    );
    assert.equal(redeemed.status, 200);
    // The result comes without a traceparent (an executor that does not trace): it still joins the agent's trace.
    const reported = await call(w, 'POST', `/v1/actions/${id}/result`, w.keys.agent, { outcome: 'succeeded' });
    assert.equal(reported.body.status, 'executed');

    const spans = exporter.getFinishedSpans();
    const proposal = byName(spans, 'countersign.propose');
    assert.equal(proposal.spanContext().traceId, AGENT_TRACE, 'the proposal continues the agent trace');
    assert.equal(proposal.parentSpanContext?.spanId, AGENT_SPAN);
    assert.equal(proposal.attributes['countersign.action.id'], id);
    assert.equal(proposal.attributes['countersign.action.status'], 'pending');
    for (const step of ['countersign.policy', 'countersign.commit']) {
      assert.equal(byName(spans, step).parentSpanContext?.spanId, proposal.spanContext().spanId, `${step} runs inside the proposal`);
    }
    assert.equal(spans.filter((s) => s.name === 'countersign.sign').length, 0, 'nothing was signed ahead for a review');

    const row = await w.gw.deps.db.read.selectFrom('actions').select(['traceparent', 'tracestate']).where('id', '=', id).executeTakeFirst();
    assert.equal(row?.traceparent, `00-${AGENT_TRACE}-${proposal.spanContext().spanId}-01`, 'the proposing span is stored with the action');
    assert.equal(row?.tracestate, 'agentvendor=opaque', "the agent's tracestate is kept");

    const wait = byName(spans, 'countersign.wait_for_decision');
    assert.equal(wait.spanContext().traceId, AGENT_TRACE);
    assert.equal(wait.parentSpanContext?.spanId, proposal.spanContext().spanId, 'the wait hangs off the proposal');
    assert.equal(seconds(wait.duration), 3 * 60, 'the wait lasts exactly as long as the action waited for a person');
    assert.equal(wait.attributes['countersign.decision.outcome'], 'approved');
    assert.equal(wait.attributes['countersign.decision.decided_by'], 'user:api');

    const reviewSpan = byName(spans, 'countersign.review');
    assert.equal(reviewSpan.spanContext().traceId, REVIEWER_TRACE, "the reviewer's request stays in the reviewer's trace");
    assert.deepEqual(
      reviewSpan.links.map((l) => l.context.spanId),
      [proposal.spanContext().spanId],
      'and links to the proposal',
    );

    const redeem = byName(spans, 'countersign.redeem');
    assert.equal(redeem.spanContext().traceId, AGENT_TRACE);
    assert.equal(redeem.parentSpanContext?.spanId, AGENT_REDEEM_SPAN, "a redemption is a child of the agent's span that sent it");
    assert.equal(redeem.links[0]?.context.spanId, proposal.spanContext().spanId);

    const result = byName(spans, 'countersign.result');
    assert.equal(result.spanContext().traceId, AGENT_TRACE);
    assert.equal(result.parentSpanContext?.spanId, proposal.spanContext().spanId, 'without a traceparent, the proposal is the parent');
  });

  test('a decision by the deadline is a wait too; an allow by policy waited for no one', async () => {
    const allowed = await propose(w, { tool: 'read_logs', annotations: { readOnlyHint: true } }, w.keys.agent, {
      traceparent: `00-${AGENT_TRACE}-${AGENT_SPAN}-01`,
    });
    assert.equal(allowed.body.status, 'approved');
    byName(exporter.getFinishedSpans(), 'countersign.sign'); // the allow's receipt, signed ahead of the commit
    await w.gw.consumerRunner.tick();
    assert.equal(exporter.getFinishedSpans().filter((s) => s.name === 'countersign.wait_for_decision').length, 0);

    const traceparent = `00-${AGENT_TRACE}-${AGENT_SPAN}-01`;
    const pending = await propose(w, { arguments: { env: 'staging' } }, w.keys.agent, { traceparent });
    await clock.advance(w.gw.deps.config.review.defaultExpiryMs + 1000);
    // The advance also fires the scheduler's own timer, whose expiry run may still be committing when
    // tick() returns; the span is written by a durable consumer after that commit. Tick until it is there.
    for (let i = 0; i < 100 && !exporter.getFinishedSpans().some((s) => s.name === 'countersign.wait_for_decision'); i++) {
      await w.gw.scheduler.tick();
      await w.gw.consumerRunner.tick();
      await new Promise((r) => setTimeout(r, 10));
    }
    const wait = byName(exporter.getFinishedSpans(), 'countersign.wait_for_decision');
    assert.equal(wait.attributes['countersign.action.id'], pending.body.id);
    assert.equal(wait.attributes['countersign.decision.outcome'], 'expired');
    assert.equal(wait.attributes['countersign.decision.decided_by'], 'system');
  });

  test('a malformed traceparent is ignored, never refused: the proposal starts a trace of its own', async () => {
    const res = await propose(w, { arguments: { env: 'dev' } }, w.keys.agent, { traceparent: `00-${'0'.repeat(32)}-${AGENT_SPAN}-01` });
    assert.equal(res.status, 201);
    const proposal = byName(exporter.getFinishedSpans(), 'countersign.propose');
    assert.notEqual(proposal.spanContext().traceId, '0'.repeat(32));
    assert.equal(proposal.parentSpanContext, undefined);
    await review(w, res.body.id, w.keys.alice, { decision: 'deny', reason: 'not today' });
  });

  test("the SDK sends the active span's traceparent, or the one a call is given", async () => {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    try {
      const cs = createClient({ url: w.gw.url, apiKey: w.keys.agent });
      const agentTracer = new BasicTracerProvider().getTracer('agent');
      const agentSpan = agentTracer.startSpan('agent.tool_call');
      const action = await context.with(trace.setSpan(context.active(), agentSpan), () =>
        cs.propose({ tool: 'deploy', arguments: { env: 'qa' } }),
      );
      agentSpan.end();
      const viaActive = byName(exporter.getFinishedSpans(), 'countersign.propose');
      assert.equal(viaActive.spanContext().traceId, agentSpan.spanContext().traceId);
      assert.equal(viaActive.parentSpanContext?.spanId, agentSpan.spanContext().spanId);
      exporter.reset();

      await cs
        .reportResult(action.id, 'failed', undefined, { trace: { traceparent: `00-${AGENT_TRACE}-${AGENT_REDEEM_SPAN}-01` } })
        .catch((e: { code?: string }) => assert.equal(e.code, 'conflict', 'a pending action has no result yet'));
      const explicit = byName(exporter.getFinishedSpans(), 'countersign.result');
      assert.equal(explicit.spanContext().traceId, AGENT_TRACE, "an explicit trace wins over the (absent) active span's");
      assert.equal(explicit.parentSpanContext?.spanId, AGENT_REDEEM_SPAN);
      await review(w, action.id, w.keys.alice, { decision: 'deny', reason: 'done testing' });
    } finally {
      context.disable();
    }
  });
});
