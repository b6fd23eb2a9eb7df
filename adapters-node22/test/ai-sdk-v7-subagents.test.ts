import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Action } from '@countersign/sdk';
import { approvedAction, withApprovals } from '@countersign/sdk/ai-sdk';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { agent, decideWhenPending, reviewer, text, toolCalls, unique } from './support.ts';

/** The tool results the model was shown in a later call's prompt. */
function toolResultsIn(model: MockLanguageModelV4, call: number) {
  return (model.doGenerateCalls[call]?.prompt ?? []).flatMap((m) =>
    m.role === 'tool' ? m.content.filter((p) => p.type === 'tool-result') : [],
  );
}

/**
 * A top-level agent whose `research` tool (gated) runs a subagent: another generateText with its own gated tools,
 * proposed under the delegation (`parent_id` = the research call's action, read with `approvedAction(options)`).
 * The subagent's model calls restart and dropTable in parallel, then answers.
 */
function delegatingAgent() {
  const names = { research: unique('v7-research'), restart: unique('v7-sub-restart'), dropTable: unique('v7-sub-drop') };
  const ran: { restart: unknown[]; dropTable: unknown[] } = { restart: [], dropTable: [] };
  const subModel = new MockLanguageModelV4({
    doGenerate: [
      toolCalls(
        { id: unique('sub-call'), name: 'restart', input: { service: 'api', replicas: 10 } },
        { id: unique('sub-call'), name: 'dropTable', input: { table: 'sessions' } },
      ),
      text('Restarted api; dropping sessions was refused.'),
    ],
  });
  const subTools = {
    restart: tool({
      description: 'Restart a service',
      inputSchema: jsonSchema<{ service: string; replicas: number }>({
        type: 'object',
        properties: { service: { type: 'string' }, replicas: { type: 'number' } },
        required: ['service', 'replicas'],
      }),
      execute: async (args) => {
        ran.restart.push(args);
        return `restarted ${args.service} with ${args.replicas}`;
      },
    }),
    dropTable: tool({
      description: 'Drop a table',
      inputSchema: jsonSchema<{ table: string }>({ type: 'object', properties: { table: { type: 'string' } }, required: ['table'] }),
      execute: async (args) => {
        ran.dropTable.push(args);
        return 'dropped';
      },
    }),
  };
  const research = tool({
    description: 'Hand a task to the research subagent',
    inputSchema: jsonSchema<{ task: string }>({ type: 'object', properties: { task: { type: 'string' } }, required: ['task'] }),
    execute: async ({ task }, options) => {
      // The one line that ties the subagent to its delegation: its calls carry the research call's action as parent.
      const parent_id = approvedAction(options)?.id;
      if (!parent_id) throw new Error('research ran without its Countersign action');
      const tools = withApprovals(agent(), subTools, { parent_id, toolName: (k) => names[k as keyof typeof names] });
      const sub = await generateText({ model: subModel, tools, stopWhen: stepCountIs(3), prompt: task, abortSignal: options.abortSignal });
      return sub.text;
    },
  });
  const topModel = new MockLanguageModelV4({
    doGenerate: [toolCalls({ id: unique('call'), name: 'research', input: { task: 'fix the api outage' } }), text('Done.')],
  });
  const tools = withApprovals(agent(), { research }, { toolName: () => names.research });
  return { names, ran, subModel, topModel, tools };
}

test('ai 7: a subagent run from a gated tool proposes its calls under the delegating action, each decided on its own', async () => {
  const { names, ran, subModel, topModel, tools } = delegatingAgent();
  const generating = generateText({ model: topModel, tools, stopWhen: stepCountIs(3), prompt: 'Fix the api outage' });

  const delegation = await decideWhenPending(names.research, { decision: 'approve' });
  const [restart, drop] = await Promise.all([
    decideWhenPending(names.restart, { decision: 'approve', arguments: { service: 'api', replicas: 2 } }),
    decideWhenPending(names.dropTable, { decision: 'deny', reason: 'sessions are live' }),
  ]);
  const result = await generating;

  // Each call was its own decision: the approved one ran once with the reviewer's edit, the denied one never ran.
  assert.deepEqual(ran.restart, [{ service: 'api', replicas: 2 }]);
  assert.deepEqual(ran.dropTable, []);
  const shown = toolResultsIn(subModel, 1);
  assert.deepEqual(
    shown.map((p) => p.output),
    [
      { type: 'text', value: 'restarted api with 2' },
      {
        type: 'execution-denied',
        reason: `Denied by alice@example.com: sessions are live. The tool "${names.dropTable}" was not run.`,
      },
    ],
  );
  // The subagent's answer is the research tool's result, which the top-level model reads.
  assert.deepEqual(
    toolResultsIn(topModel, 1).map((p) => p.output),
    [{ type: 'text', value: 'Restarted api; dropping sessions was refused.' }],
  );
  assert.equal(result.text, 'Done.');

  for (const sub of [restart, drop]) {
    assert.equal(sub.parent_id, delegation.id);
    assert.equal(sub.root_id, delegation.id);
  }
});

test('ai 7: GET /v1/actions?root_id= lists the delegating action with every call its subagent proposed', async () => {
  const { names, topModel, tools } = delegatingAgent();
  const generating = generateText({ model: topModel, tools, stopWhen: stepCountIs(3), prompt: 'Fix the api outage' });
  const delegation = await decideWhenPending(names.research, { decision: 'approve' });
  const [restart, drop] = await Promise.all([
    decideWhenPending(names.restart, { decision: 'approve' }),
    decideWhenPending(names.dropTable, { decision: 'deny', reason: 'sessions are live' }),
  ]);
  await generating;

  const { items } = await reviewer().request<{ items: Action[] }>('GET', `/v1/actions?root_id=${delegation.id}`);
  const byId = new Map(items.map((a) => [a.id, a]));
  assert.deepEqual([...byId.keys()].sort(), [delegation.id, restart.id, drop.id].sort());
  // The delegation ran (the subagent finished), its approved child ran, its denied child stays denied.
  assert.equal(byId.get(delegation.id)?.status, 'executed');
  assert.equal(byId.get(restart.id)?.status, 'executed');
  assert.equal(byId.get(drop.id)?.status, 'denied');
});
