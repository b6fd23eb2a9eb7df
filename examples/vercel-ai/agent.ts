/**
 * A Vercel AI SDK agent whose `deploy` tool waits for a person through Countersign. The model is scripted
 * (ai/test's mock), so no API key is needed: it asks to deploy with 10 replicas, a reviewer edits that
 * to 2 and approves, and the tool runs once with 2. Then it tries to drop a table and is refused: the
 * model's next input carries who denied it and why.
 *
 *   npx tsx examples/with-gateway.ts npx tsx examples/vercel-ai/agent.ts
 */
import { createClient } from '@countersign/sdk';
import { withApprovals } from '@countersign/sdk/ai-sdk';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { playReviewer } from '../reviewer.js';

const cs = createClient({ url: process.env.COUNTERSIGN_URL as string, apiKey: process.env.COUNTERSIGN_AGENT_KEY as string });

// The agent's tools, as they were before Countersign...
const tools = {
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
};

// ...and the one line that adds approvals: every call now waits for a person's decision.
const gated = withApprovals(cs, tools);

// A scripted model: one tool call per turn, then a summary of what it read back.
const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};
const callTool = (id: string, toolName: string, input: unknown) => ({
  content: [{ type: 'tool-call' as const, toolCallId: `${id}-${Date.now()}`, toolName, input: JSON.stringify(input) }],
  finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
  usage,
  warnings: [],
});
const say = (text: string) => ({
  content: [{ type: 'text' as const, text }],
  finishReason: { unified: 'stop' as const, raw: 'stop' },
  usage,
  warnings: [],
});
const model = new MockLanguageModelV3({
  doGenerate: [
    callTool('call-deploy', 'deploy', { service: 'api', replicas: 10 }),
    callTool('call-drop', 'dropTable', { table: 'users' }),
    say('Deployed api; dropping users was refused.'),
  ],
});

const reviewing = playReviewer([
  { tool: 'deploy', decision: { decision: 'approve', arguments: { service: 'api', replicas: 2 } } },
  { tool: 'dropTable', decision: { decision: 'deny', reason: 'not during the freeze' } },
]);
const result = await generateText({ model, tools: gated, stopWhen: stepCountIs(5), prompt: 'Deploy api, then drop the users table.' });
await reviewing;

for (const step of result.steps) {
  for (const r of step.toolResults) console.log(`${r.toolName}(${JSON.stringify(r.input)}) -> ${JSON.stringify(r.output)}`);
}
console.log('model:', result.text);
