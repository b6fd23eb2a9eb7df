import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRefusal } from '@countersign/sdk';
import { withApproval, withApprovals } from '@countersign/sdk/ai-sdk';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { actionsFor, agent, decideWhenPending, text, toolCalls, unique } from './support.ts';

const serviceSchema = jsonSchema<{ service: string; replicas: number }>({
  type: 'object',
  properties: { service: { type: 'string' }, replicas: { type: 'number' } },
  required: ['service', 'replicas'],
  additionalProperties: false,
});

/** The tool results the model was shown in a later call's prompt. */
function toolResultsIn(model: MockLanguageModelV4, call: number) {
  return (model.doGenerateCalls[call]?.prompt ?? []).flatMap((m) =>
    m.role === 'tool' ? m.content.filter((p) => p.type === 'tool-result') : [],
  );
}

test('ai 7: a gated tool approved with edited arguments runs once with the edited ones and the model reads the result', async () => {
  const name = unique('v7-deploy-edit');
  const ran: unknown[] = [];
  const deploy = withApproval(
    agent(),
    tool({
      description: 'Deploy a service',
      inputSchema: serviceSchema,
      execute: async (args) => {
        ran.push(args);
        return { deployed: args.service, replicas: args.replicas };
      },
    }),
    { tool: name, resource: (a) => `service:${a.service}` },
  );
  const model = new MockLanguageModelV4({
    doGenerate: [toolCalls({ id: unique('call'), name: 'deploy', input: { service: 'api', replicas: 10 } }), text('Deployed.')],
  });
  const generating = generateText({ model, tools: { deploy }, stopWhen: stepCountIs(3), prompt: 'Deploy api with 10 replicas' });
  const decided = await decideWhenPending(name, { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  assert.equal(decided.status, 'approved');
  const result = await generating;

  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.deepEqual(
    result.steps[0]?.toolResults.map((r) => r.output),
    [{ deployed: 'api', replicas: 2 }],
  );
  assert.deepEqual(
    toolResultsIn(model, 1).map((p) => p.output),
    [{ type: 'json', value: { deployed: 'api', replicas: 2 } }],
  );
  const [action] = await actionsFor(name);
  assert.equal(action?.status, 'executed');
  assert.equal(result.text, 'Deployed.');
});

test('ai 7: a denied call never runs and the model reads who denied it and why as an execution-denied result', async () => {
  const name = unique('v7-drop');
  let ran = 0;
  const tools = withApprovals(
    agent(),
    {
      dropTable: tool({
        description: 'Drop a table',
        inputSchema: jsonSchema<{ table: string }>({ type: 'object', properties: { table: { type: 'string' } }, required: ['table'] }),
        execute: async () => {
          ran++;
          return 'dropped';
        },
      }),
    },
    { toolName: () => name },
  );
  const model = new MockLanguageModelV4({
    doGenerate: [toolCalls({ id: unique('call'), name: 'dropTable', input: { table: 'users' } }), text('Refused.')],
  });
  const generating = generateText({ model, tools, stopWhen: stepCountIs(3), prompt: 'Drop users' });
  await decideWhenPending(name, { decision: 'deny', reason: 'not during the freeze' });
  const result = await generating;

  assert.equal(ran, 0);
  assert.ok(isRefusal(result.steps[0]?.toolResults[0]?.output));
  const [shown] = toolResultsIn(model, 1);
  assert.deepEqual(shown?.output, {
    type: 'execution-denied',
    reason: `Denied by alice@example.com: not during the freeze. The tool "${name}" was not run.`,
  });
});
