import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerToolApprovals, withApprovals } from '@countersign/sdk/mastra';
import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import { scriptedModel, type Turn, toolResultsIn } from './mastra-model.ts';
import { actionsFor, agent, decideWhenPending, text, toolCalls, unique } from './support.ts';

/** A Mastra agent with one gated deploy tool that records what it ran with. */
function deployAgent(name: string, turns: Turn[], annotations?: { readOnlyHint: boolean }) {
  const ran: { service: string; replicas: number }[] = [];
  const deploy = createTool({
    id: 'deploy',
    description: 'Deploy a service',
    inputSchema: z.object({ service: z.string(), replicas: z.number().int().positive() }),
    execute: async (input) => {
      ran.push(input);
      return `deployed ${input.service} with ${input.replicas} replicas`;
    },
  });
  const tools = withApprovals(agent(), { deploy }, { toolName: () => name, ...(annotations ? { annotations } : {}) });
  const { model, prompts } = scriptedModel(turns);
  const mastra = new Mastra({
    agents: { ops: new Agent({ id: 'ops', name: 'ops', instructions: 'You deploy services.', model: model as never, tools }) },
    logger: false,
  });
  return { ran, tools, prompts, ops: mastra.getAgent('ops') };
}

test('Mastra: a call stops on Mastra’s tool approval and, approved with edited arguments in Countersign, runs once with the edited ones', async () => {
  const name = unique('mastra-edit');
  const callId = unique('call');
  const { ran, tools, prompts, ops } = deployAgent(name, [
    toolCalls({ id: callId, name: 'deploy', input: { service: 'api', replicas: 10 } }),
    text('Deployed api with 2.'),
  ]);
  const first = await ops.generate('Deploy api with 10 replicas');
  assert.equal(first.finishReason, 'suspended');
  assert.equal(ran.length, 0);

  const deciding = decideWhenPending(name, { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  const { output, answered } = await answerToolApprovals(ops, first, tools);
  await deciding;

  assert.deepEqual(
    answered.map((a) => [a.toolCallId, a.outcome]),
    [[callId, 'approved']],
  );
  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.equal(output.text, 'Deployed api with 2.');
  assert.deepEqual(
    toolResultsIn(prompts[1]).map((r) => r.output),
    [{ type: 'text', value: 'deployed api with 2 replicas' }],
  );
  const [action] = await actionsFor(name);
  assert.equal(action?.status, 'executed');
});

test('Mastra: a call denied in Countersign is declined in Mastra, never runs, and the model reads who denied it and why', async () => {
  const name = unique('mastra-deny');
  const { ran, tools, prompts, ops } = deployAgent(name, [
    toolCalls({ id: unique('call'), name: 'deploy', input: { service: 'db', replicas: 1 } }),
    text('Not deployed.'),
  ]);
  const first = await ops.generate('Deploy db');
  const deciding = decideWhenPending(name, { decision: 'deny', reason: 'not during the freeze' });
  const { output, answered } = await answerToolApprovals(ops, first, tools);
  await deciding;

  const message = `Denied by alice@example.com: not during the freeze. The tool "${name}" was not run.`;
  assert.deepEqual(
    answered.map((a) => [a.outcome, a.reason]),
    [['declined', message]],
  );
  assert.equal(ran.length, 0);
  assert.equal(output.finishReason, 'stop');
  assert.match(
    JSON.stringify(toolResultsIn(prompts[1])),
    new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/"/g, '\\\\"')),
  );
  const [action] = await actionsFor(name);
  assert.equal(action?.status, 'denied');
});

test('Mastra: three parallel calls stop one at a time and are decided independently: approved, edited, denied', async () => {
  const name = unique('mastra-parallel');
  const ids = [unique('call'), unique('call'), unique('call')] as const;
  const { ran, tools, ops } = deployAgent(name, [
    toolCalls(
      { id: ids[0], name: 'deploy', input: { service: 'web', replicas: 3 } },
      { id: ids[1], name: 'deploy', input: { service: 'api', replicas: 10 } },
      { id: ids[2], name: 'deploy', input: { service: 'db', replicas: 1 } },
    ),
    text('Done.'),
  ]);
  const first = await ops.generate('Deploy web, api and db');
  // Each call is proposed when Mastra stops on it; the reviewer answers each as it shows up.
  const reviewing = Promise.all([
    decideWhenPending(name, { decision: 'deny', reason: 'db is frozen' }, (a) => a.service === 'db'),
    decideWhenPending(name, { decision: 'approve', arguments: { service: 'api', replicas: 2 } }, (a) => a.service === 'api'),
    decideWhenPending(name, { decision: 'approve' }, (a) => a.service === 'web'),
  ]);
  const { output, answered } = await answerToolApprovals(ops, first, tools);
  await reviewing;

  assert.deepEqual(
    [...answered].map((a) => [a.toolCallId, a.outcome]).sort(),
    [
      [ids[0], 'approved'],
      [ids[1], 'approved'],
      [ids[2], 'declined'],
    ].sort(),
  );
  assert.deepEqual(
    [...ran].sort((a, b) => a.service.localeCompare(b.service)),
    [
      { service: 'api', replicas: 2 },
      { service: 'web', replicas: 3 },
    ],
  );
  assert.equal(output.text, 'Done.');
  assert.deepEqual((await actionsFor(name)).map((a) => a.status).sort(), ['denied', 'executed', 'executed']);
});

test('Mastra: approving a call in Mastra alone does not bypass Countersign: the tool waits for the decision and a denial is what the model reads', async () => {
  const name = unique('mastra-bypass');
  const callId = unique('call');
  const { ran, prompts, ops } = deployAgent(name, [
    toolCalls({ id: callId, name: 'deploy', input: { service: 'api', replicas: 5 } }),
    text('Refused.'),
  ]);
  const first = await ops.generate('Deploy api');
  assert.equal(first.finishReason, 'suspended');
  // Someone approves in Mastra directly, without Countersign: the tool's execute still asks Countersign first.
  const deciding = decideWhenPending(name, { decision: 'deny', reason: 'no one approved this' });
  const output = await ops.approveToolCallGenerate({ runId: first.runId as string, toolCallId: callId });
  await deciding;

  assert.equal(ran.length, 0);
  assert.equal(output.text, 'Refused.');
  assert.deepEqual(
    toolResultsIn(prompts[1]).map((r) => r.output),
    [{ type: 'text', value: `Denied by alice@example.com: no one approved this. The tool "${name}" was not run.` }],
  );
});

test('Mastra: a call the policy allows at once is approved in Mastra without a reviewer and runs once', async () => {
  const name = unique('mastra-allowed');
  // The gateway's built-in rule passes read-only hints of the agents it trusts (the runner's demo agent).
  const { ran, tools, ops } = deployAgent(
    name,
    [toolCalls({ id: unique('call'), name: 'deploy', input: { service: 'docs', replicas: 1 } }), text('Done.')],
    { readOnlyHint: true },
  );
  const { output, answered } = await answerToolApprovals(ops, await ops.generate('Deploy docs'), tools);

  assert.deepEqual(
    answered.map((a) => [a.outcome, a.action.decided_by?.type]),
    [['approved', 'policy']],
  );
  assert.deepEqual(ran, [{ service: 'docs', replicas: 1 }]);
  assert.equal(output.text, 'Done.');
  assert.deepEqual(
    (await actionsFor(name)).map((a) => a.status),
    ['executed'],
  );
});
