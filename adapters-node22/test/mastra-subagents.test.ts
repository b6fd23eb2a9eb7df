import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Action } from '@countersign/sdk';
import { answerToolApprovals, approvedAction, withApprovals } from '@countersign/sdk/mastra';
import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import { scriptedModel, toolResultsIn } from './mastra-model.ts';
import { agent, decideWhenPending, reviewer, text, toolCalls, unique } from './support.ts';

/** Registers one agent in a Mastra instance (as an app would) and returns it. */
function registered(id: string, model: unknown, tools: Record<string, ReturnType<typeof createTool>>, instructions: string) {
  const mastra = new Mastra({ agents: { [id]: new Agent({ id, name: id, instructions, model: model as never, tools }) }, logger: false });
  return mastra.getAgent(id);
}

/**
 * An ops agent whose gated `research` tool runs another Mastra agent (the researcher) with its own gated tools,
 * proposed under the delegation (`parent_id` = the research call's action, read with `approvedAction(context)`).
 * The researcher's model calls restart and dropTable in parallel, then answers.
 */
function delegatingAgent() {
  const names = { research: unique('mastra-research'), restart: unique('mastra-sub-restart'), dropTable: unique('mastra-sub-drop') };
  const ran: { restart: unknown[]; dropTable: unknown[] } = { restart: [], dropTable: [] };
  const sub = scriptedModel([
    toolCalls(
      { id: unique('sub-call'), name: 'restart', input: { service: 'api', replicas: 10 } },
      { id: unique('sub-call'), name: 'dropTable', input: { table: 'sessions' } },
    ),
    text('Restarted api; dropping sessions was refused.'),
  ]);
  const subTools = {
    restart: createTool({
      id: 'restart',
      description: 'Restart a service',
      inputSchema: z.object({ service: z.string(), replicas: z.number().int().positive() }),
      execute: async (input) => {
        ran.restart.push(input);
        return `restarted ${input.service} with ${input.replicas}`;
      },
    }),
    dropTable: createTool({
      id: 'dropTable',
      description: 'Drop a table',
      inputSchema: z.object({ table: z.string() }),
      execute: async (input) => {
        ran.dropTable.push(input);
        return 'dropped';
      },
    }),
  };
  const research = createTool({
    id: 'research',
    description: 'Hand a task to the researcher agent',
    inputSchema: z.object({ task: z.string() }),
    execute: async ({ task }, context) => {
      // The one line that ties the researcher to its delegation: its calls carry the research call's action as parent.
      const parent_id = approvedAction(context)?.id;
      if (!parent_id) throw new Error('research ran without its Countersign action');
      const tools = withApprovals(agent(), subTools, { parent_id, toolName: (k) => names[k as keyof typeof names] });
      const researcher = registered('researcher', sub.model, tools, 'You fix outages.');
      const { output } = await answerToolApprovals(researcher, await researcher.generate(task), tools);
      return output.text;
    },
  });
  const top = scriptedModel([toolCalls({ id: unique('call'), name: 'research', input: { task: 'fix the api outage' } }), text('Done.')]);
  const tools = withApprovals(agent(), { research }, { toolName: () => names.research });
  const ops = registered('ops', top.model, tools, 'You delegate to the researcher.');
  return { names, ran, subPrompts: sub.prompts, topPrompts: top.prompts, tools, ops };
}

/** Runs the ops agent to the end while a reviewer approves the delegation and decides the researcher's calls. */
async function runDecided(d: ReturnType<typeof delegatingAgent>) {
  const first = await d.ops.generate('Fix the api outage');
  assert.equal(first.finishReason, 'suspended');
  const reviewing = (async () => {
    const delegation = await decideWhenPending(d.names.research, { decision: 'approve' });
    const [restart, drop] = await Promise.all([
      decideWhenPending(d.names.restart, { decision: 'approve', arguments: { service: 'api', replicas: 2 } }),
      decideWhenPending(d.names.dropTable, { decision: 'deny', reason: 'sessions are live' }),
    ]);
    return { delegation, restart, drop };
  })();
  const { output } = await answerToolApprovals(d.ops, first, d.tools);
  return { output, ...(await reviewing) };
}

test('Mastra: an agent run as a gated tool proposes its calls under the delegating action, each decided on its own', async () => {
  const d = delegatingAgent();
  const { output, delegation, restart, drop } = await runDecided(d);

  // Each call was its own decision: the approved one ran once with the reviewer's edit, the denied one never ran.
  assert.deepEqual(d.ran.restart, [{ service: 'api', replicas: 2 }]);
  assert.deepEqual(d.ran.dropTable, []);
  const shownToResearcher = JSON.stringify(toolResultsIn(d.subPrompts.at(-1)));
  assert.ok(shownToResearcher.includes('restarted api with 2'), shownToResearcher);
  assert.ok(shownToResearcher.includes('Denied by alice@example.com: sessions are live.'), shownToResearcher);
  // The researcher's answer is the research tool's result, which the ops agent's model reads.
  assert.deepEqual(
    toolResultsIn(d.topPrompts.at(-1)).map((r) => r.output),
    [{ type: 'text', value: 'Restarted api; dropping sessions was refused.' }],
  );
  assert.equal(output.text, 'Done.');

  for (const child of [restart, drop]) {
    assert.equal(child.parent_id, delegation.id);
    assert.equal(child.root_id, delegation.id);
  }
});

test('Mastra: GET /v1/actions?root_id= lists the delegating action with every call its researcher agent proposed', async () => {
  const { delegation, restart, drop } = await runDecided(delegatingAgent());

  const { items } = await reviewer().request<{ items: Action[] }>('GET', `/v1/actions?root_id=${delegation.id}`);
  const byId = new Map(items.map((a) => [a.id, a]));
  assert.deepEqual([...byId.keys()].sort(), [delegation.id, restart.id, drop.id].sort());
  assert.equal(byId.get(delegation.id)?.status, 'executed');
  assert.equal(byId.get(restart.id)?.status, 'executed');
  assert.equal(byId.get(drop.id)?.status, 'denied');
});
