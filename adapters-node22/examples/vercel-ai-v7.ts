/**
 * A Vercel AI SDK 7 agent whose tools are approved through Countersign in the SDK's own tool-approval flow.
 * The model is scripted (ai/test's mock), so no API key is needed: it asks to deploy api with 10 replicas and
 * to drop a table in one step; generation stops on two approval requests; a reviewer edits the deploy to 2
 * replicas and denies the drop; the answers go back as the SDK's tool-approval responses, the deploy runs once
 * with 2, and the model reads who denied the drop and why.
 *
 *   npm run example:vercel-ai-v7   (installs Node 22 and ai 7 in adapters-node22/ first)
 */
import { createClient } from '@countersign/sdk';
import { resolveToolApprovals, withApprovals } from '@countersign/sdk/ai-sdk';
import { generateText, jsonSchema, type ModelMessage, stepCountIs, tool } from 'ai';
import { playReviewer } from '../../examples/reviewer.ts';
import { callTools, say, scriptedModel } from './scripted-model.ts';

const cs = createClient({ url: process.env.COUNTERSIGN_URL as string, apiKey: process.env.COUNTERSIGN_AGENT_KEY as string });

const tools = withApprovals(
  cs,
  {
    deploy: tool({
      description: 'Deploy a service',
      inputSchema: jsonSchema<{ service: string; replicas: number }>({
        type: 'object',
        properties: { service: { type: 'string' }, replicas: { type: 'number' } },
        required: ['service', 'replicas'],
      }),
      execute: async ({ service, replicas }) => `deployed ${service} with ${replicas} replicas`,
    }),
    dropTable: tool({
      description: 'Drop a database table',
      inputSchema: jsonSchema<{ table: string }>({ type: 'object', properties: { table: { type: 'string' } }, required: ['table'] }),
      execute: async ({ table }): Promise<string> => {
        process.exitCode = 1; // never reached: the reviewer denies it
        return `dropped ${table}`;
      },
    }),
  },
  { mode: 'approval-request' }, // the SDK's own approval requests, answered from Countersign
);

const model = scriptedModel([
  callTools(
    { id: `call-deploy-${Date.now()}`, name: 'deploy', input: { service: 'api', replicas: 10 } },
    { id: `call-drop-${Date.now()}`, name: 'dropTable', input: { table: 'users' } },
  ),
  say('Deployed api; dropping users was refused.'),
]);

const reviewing = playReviewer([
  { tool: 'deploy', decision: { decision: 'approve', arguments: { service: 'api', replicas: 2 } } },
  { tool: 'dropTable', decision: { decision: 'deny', reason: 'not during the freeze' } },
]);
const messages: ModelMessage[] = [{ role: 'user', content: 'Deploy api, then drop the users table.' }];
for (;;) {
  const result = await generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
  messages.push(...result.response.messages);
  const { message, resolutions } = await resolveToolApprovals(result, tools);
  if (!message) {
    // What the model read back in its last turn: the approved call's output and the denied one's reason.
    for (const m of model.doGenerateCalls.at(-1)?.prompt ?? []) {
      if (m.role !== 'tool') continue;
      for (const p of m.content) if (p.type === 'tool-result') console.log(`model reads ${p.toolName}: ${JSON.stringify(p.output)}`);
    }
    console.log('model:', result.text);
    break;
  }
  console.log(
    `generation stopped on ${resolutions.length} approval requests: ${resolutions.map((r) => `${r.toolName} ${r.outcome}`).join(', ')}`,
  );
  messages.push(message);
}
await reviewing;
