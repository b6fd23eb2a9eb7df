/**
 * A Mastra agent whose deploy and dropTable tools are approved through Countersign, in Mastra's own
 * tool-approval flow. The model is scripted, so no API key is needed: it asks to deploy api with 10 replicas
 * and to drop a table in one step; a reviewer edits the deploy to 2 replicas and denies the drop. The deploy
 * runs once with 2, and the model reads who denied the drop and why.
 *
 *   npm run example:mastra   (installs Node 22 and @mastra/core in adapters-node22/ first)
 */
import { createClient } from '@countersign/sdk';
import { answerToolApprovals, withApprovals } from '@countersign/sdk/mastra';
import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import { playReviewer } from '../../examples/reviewer.ts';
import { callTools, say, scriptedModel } from './scripted-model.ts';

const cs = createClient({ url: process.env.COUNTERSIGN_URL as string, apiKey: process.env.COUNTERSIGN_AGENT_KEY as string });

// The agent's tools, as they were before Countersign...
const deploy = createTool({
  id: 'deploy',
  description: 'Deploy a service',
  inputSchema: z.object({ service: z.string(), replicas: z.number().int().positive() }),
  execute: async ({ service, replicas }) => `deployed ${service} with ${replicas} replicas`,
});
const dropTable = createTool({
  id: 'dropTable',
  description: 'Drop a database table',
  inputSchema: z.object({ table: z.string() }),
  execute: async ({ table }) => {
    process.exitCode = 1; // never reached: the reviewer denies it
    return `dropped ${table}`;
  },
});

// ...and the one line that adds approvals: every call now waits for a Countersign decision.
const tools = withApprovals(cs, { deploy, dropTable });

const model = scriptedModel([
  callTools(
    { id: `call-deploy-${Date.now()}`, name: 'deploy', input: { service: 'api', replicas: 10 } },
    { id: `call-drop-${Date.now()}`, name: 'dropTable', input: { table: 'users' } },
  ),
  say('Deployed api; dropping users was refused.'),
]);
const mastra = new Mastra({
  agents: { ops: new Agent({ id: 'ops', name: 'ops', instructions: 'You run deploys.', model: model as never, tools }) },
  logger: false,
});
const ops = mastra.getAgent('ops');

const reviewing = playReviewer([
  { tool: 'deploy', decision: { decision: 'approve', arguments: { service: 'api', replicas: 2 } } },
  { tool: 'dropTable', decision: { decision: 'deny', reason: 'not during the freeze' } },
]);
const first = await ops.generate('Deploy api, then drop the users table.');
console.log(`run stopped: ${first.finishReason} on ${(first.suspendPayload as { toolName: string }).toolName}`);
const { output, answered } = await answerToolApprovals(ops, first, tools);
await reviewing;

for (const a of answered) console.log(`${a.toolName}: ${a.outcome}${a.reason ? ` (${a.reason})` : ''}`);
for (const step of output.steps ?? []) {
  for (const r of step.toolResults ?? [])
    console.log(`${r.payload.toolName}(${JSON.stringify(r.payload.args)}) -> ${JSON.stringify(r.payload.result)}`);
}
console.log('model:', output.text);
