import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateText, jsonSchema, type ModelMessage, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { call, type World, world } from '../../countersign/test/helpers.js';
import { resolveToolApprovals, withApproval, withApprovals } from '../src/adapters/ai-sdk.js';
import { type Action, createClient, isRefusal } from '../src/index.js';
import { decideWhenPending as decide } from './support.js';

let w: World;
before(async () => {
  w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
});
after(async () => w.close());

// The provider spec types, without depending on @ai-sdk/provider directly.
type CallOptions = MockLanguageModelV3['doGenerateCalls'][number];
type GenerateResult = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;

const client = () => createClient({ url: w.gw.url, apiKey: w.keys.agent });

const decideWhenPending = (tool: string, decision: Record<string, unknown>, which?: (args: Record<string, unknown>) => boolean) =>
  decide(w, tool, decision, which);

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};

/** One model turn that calls tools. */
const toolCalls = (...calls: { id: string; name: string; input: unknown }[]): GenerateResult => ({
  content: calls.map((c) => ({ type: 'tool-call', toolCallId: c.id, toolName: c.name, input: JSON.stringify(c.input) })),
  finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
  usage,
  warnings: [],
});

/** One model turn that answers in text. */
const text = (value: string): GenerateResult => ({
  content: [{ type: 'text', text: value }],
  finishReason: { unified: 'stop', raw: 'stop' },
  usage,
  warnings: [],
});

/** The tool results the model was shown in a later call's prompt. */
function toolResultsIn(call: CallOptions) {
  return call.prompt.flatMap((m) => (m.role === 'tool' ? m.content.filter((p) => p.type === 'tool-result') : []));
}

const serviceSchema = jsonSchema<{ service: string; replicas: number }>({
  type: 'object',
  properties: { service: { type: 'string' }, replicas: { type: 'number' } },
  required: ['service', 'replicas'],
  additionalProperties: false,
});

test('a gated tool call approved with edited arguments runs with the edited ones and the model sees the result', async () => {
  const ran: unknown[] = [];
  const deploy = withApproval(
    client(),
    tool({
      description: 'Deploy a service',
      inputSchema: serviceSchema,
      execute: async (args) => {
        ran.push(args);
        return { deployed: args.service, replicas: args.replicas };
      },
    }),
    { tool: 'ai-deploy-edit', resource: (a) => `service:${a.service.toLowerCase()}` },
  );
  const model = new MockLanguageModelV3({
    doGenerate: [toolCalls({ id: 'call-ai-edit-1', name: 'deploy', input: { service: 'api', replicas: 10 } }), text('Deployed.')],
  });
  const generating = generateText({ model, tools: { deploy }, stopWhen: stepCountIs(3), prompt: 'Deploy api with 10 replicas' });
  const decided = await decideWhenPending('ai-deploy-edit', { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  assert.equal(decided.status, 'approved');
  assert.equal(decided.resource, 'service:api');
  const result = await generating;

  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.equal(result.text, 'Deployed.');
  assert.equal(model.doGenerateCalls.length, 2);
  const [seen] = toolResultsIn(model.doGenerateCalls[1] as CallOptions);
  assert.equal(seen?.toolCallId, 'call-ai-edit-1');
  assert.deepEqual(seen?.output, { type: 'json', value: { deployed: 'api', replicas: 2 } });

  const final = await client().getAction(decided.id);
  assert.equal(final.status, 'executed');
  assert.ok(final.redeemed_at);
  assert.deepEqual(final.result?.output, { deployed: 'api', replicas: 2 });
});

test('a denied tool call never runs and the model next reads who denied it and why', async () => {
  let ran = false;
  const dropTable = withApproval(
    client(),
    tool({
      description: 'Drop a table',
      inputSchema: jsonSchema<{ table: string }>({ type: 'object', properties: { table: { type: 'string' } }, required: ['table'] }),
      execute: async () => {
        ran = true;
        return 'dropped';
      },
    }),
    { tool: 'ai-drop-table' },
  );
  const model = new MockLanguageModelV3({
    doGenerate: [toolCalls({ id: 'call-ai-deny-1', name: 'dropTable', input: { table: 'users' } }), text('I was not allowed to.')],
  });
  const generating = generateText({ model, tools: { dropTable }, stopWhen: stepCountIs(3), prompt: 'Drop the users table' });
  await decideWhenPending('ai-drop-table', { decision: 'deny', reason: 'not during the freeze' });
  const result = await generating;

  assert.equal(ran, false);
  const message = 'Denied by alice@example.com: not during the freeze. The tool "ai-drop-table" was not run.';
  const output = result.steps[0]?.toolResults[0]?.output;
  assert.ok(isRefusal(output));
  assert.equal(output.message, message);
  const [seen] = toolResultsIn(model.doGenerateCalls[1] as CallOptions);
  assert.equal(seen?.toolCallId, 'call-ai-deny-1');
  assert.deepEqual(seen?.output, { type: 'execution-denied', reason: message });
});

test('three tool calls in one step are decided independently: two run, one is refused', async () => {
  const ran: string[] = [];
  let statusReads = 0;
  const tools = withApprovals(
    client(),
    {
      restart: tool({
        description: 'Restart a service',
        inputSchema: serviceSchema,
        execute: async ({ service }) => {
          ran.push(service);
          return `restarted ${service}`;
        },
      }),
      status: tool({
        description: 'Read a service status (not gated)',
        inputSchema: jsonSchema<Record<string, never>>({ type: 'object', properties: {} }),
        execute: async () => {
          statusReads += 1;
          return 'ok';
        },
      }),
    },
    { only: ['restart'], toolName: (k) => `ai-${k}-par`, refusalOutput: 'text' },
  );
  const model = new MockLanguageModelV3({
    doGenerate: [
      toolCalls(
        ...['api', 'web', 'worker'].map((service, i) => ({ id: `call-ai-par-${i}`, name: 'restart', input: { service, replicas: 1 } })),
        { id: 'call-ai-status', name: 'status', input: {} },
      ),
      text('Restarted api and worker; web was refused.'),
    ],
  });
  const generating = generateText({ model, tools, stopWhen: stepCountIs(3), prompt: 'Restart everything' });
  for (const [service, decision] of [
    ['api', 'approve'],
    ['web', 'deny'],
    ['worker', 'approve'],
  ] as const) {
    await decideWhenPending('ai-restart-par', { decision, reason: `${decision} ${service}` }, (a) => a.service === service);
  }
  const result = await generating;

  assert.deepEqual([...ran].sort(), ['api', 'worker']);
  assert.equal(statusReads, 1, 'the tool left out of `only` runs without approval');
  const outputs = result.steps[0]?.toolResults.map((r) => r.output) ?? [];
  assert.equal(outputs.filter(isRefusal).length, 1);
  const seen = toolResultsIn(model.doGenerateCalls[1] as CallOptions);
  assert.deepEqual(
    seen.map((r) => [r.toolCallId, r.output]),
    [
      ['call-ai-par-0', { type: 'text', value: 'restarted api' }],
      ['call-ai-par-1', { type: 'text', value: 'Denied by alice@example.com: deny web. The tool "ai-restart-par" was not run.' }],
      ['call-ai-par-2', { type: 'text', value: 'restarted worker' }],
      ['call-ai-status', { type: 'text', value: 'ok' }],
    ],
  );
  const all = await call(w, 'GET', '/v1/actions?tool=ai-restart-par', w.keys.alice);
  assert.deepEqual((all.body.items as Action[]).map((a) => a.status).sort(), ['denied', 'executed', 'executed']);
});

test('ai 6: in approval-request mode a held call stops on the SDK’s approval request; the answers run the edited call and deny the other', async () => {
  const ran: unknown[] = [];
  const tools = withApprovals(
    client(),
    {
      deploy: tool({
        description: 'Deploy a service',
        inputSchema: serviceSchema,
        execute: async (args) => {
          ran.push(args);
          return `deployed ${args.service} with ${args.replicas}`;
        },
      }),
    },
    { mode: 'approval-request', toolName: () => 'ai-req-deploy' },
  );
  const model = new MockLanguageModelV3({
    doGenerate: [
      toolCalls(
        { id: 'call-ai-req-1', name: 'deploy', input: { service: 'api', replicas: 10 } },
        { id: 'call-ai-req-2', name: 'deploy', input: { service: 'db', replicas: 1 } },
      ),
      text('Done.'),
    ],
  });
  const messages: ModelMessage[] = [{ role: 'user', content: 'Deploy api and db' }];
  const first = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
  assert.equal(first.content.filter((p) => p.type === 'tool-approval-request').length, 2);
  assert.equal(ran.length, 0);

  const resolving = resolveToolApprovals(first, tools);
  await decideWhenPending('ai-req-deploy', { decision: 'approve', arguments: { service: 'api', replicas: 2 } }, (a) => a.service === 'api');
  await decideWhenPending('ai-req-deploy', { decision: 'deny', reason: 'db is frozen' }, (a) => a.service === 'db');
  const { message, resolutions } = await resolving;
  assert.deepEqual(
    resolutions.map((r) => r.outcome),
    ['approved', 'denied'],
  );
  assert.ok(message);
  messages.push(...first.response.messages, message);
  await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });

  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.deepEqual(
    toolResultsIn(model.doGenerateCalls[1] as CallOptions).map((r) => [r.toolCallId, r.output]),
    [
      ['call-ai-req-1', { type: 'text', value: 'deployed api with 2' }],
      [
        'call-ai-req-2',
        { type: 'execution-denied', reason: 'Denied by alice@example.com: db is frozen. The tool "ai-req-deploy" was not run.' },
      ],
    ],
  );
  const all = await call(w, 'GET', '/v1/actions?tool=ai-req-deploy', w.keys.alice);
  assert.deepEqual((all.body.items as Action[]).map((a) => a.status).sort(), ['denied', 'executed']);
});
