/**
 * An OpenAI Agents JS agent whose tools are approved in Countersign. The model is scripted (no API key):
 * it calls `deploy` (10 replicas) and `drop_table` in one turn. Both are held for review, so the run ends
 * with two interruptions; the run state is saved as a string (as a server would between requests),
 * restored with a fresh agent, and resolved from Countersign's decisions: the deploy runs with the
 * reviewer's edit (2 replicas), the drop is rejected and the model reads who denied it and why.
 *
 *   npm run example:openai-agents
 */
import { createClient } from '@countersign/sdk';
import { approvalTool, resolveInterruptions } from '@countersign/sdk/openai-agents';
import {
  Agent,
  type AgentInputItem,
  type AgentOutputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  RunState,
  run,
  setTracingDisabled,
  Usage,
} from '@openai/agents';
import { z } from 'zod';
import { playReviewer } from '../reviewer.js';

setTracingDisabled(true); // nothing leaves this machine

/** A model that plays back scripted turns and prints the tool results it is shown. */
class ScriptedModel implements Model {
  constructor(private readonly turns: AgentOutputItem[][]) {}
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const input = typeof request.input === 'string' ? [] : (request.input as AgentInputItem[]);
    for (const item of input)
      if (item.type === 'function_call_result') console.log(`model reads ${item.name}: ${JSON.stringify(item.output)}`);
    return { usage: new Usage(), output: this.turns.shift() ?? [] };
  }
  getStreamedResponse(): never {
    throw new Error('not streamed');
  }
}
const call = (callId: string, name: string, args: object): AgentOutputItem => ({
  type: 'function_call',
  callId,
  name,
  arguments: JSON.stringify(args),
  status: 'completed',
});
const say = (text: string): AgentOutputItem => ({
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text }],
});

const cs = createClient({ url: process.env.COUNTERSIGN_URL as string, apiKey: process.env.COUNTERSIGN_AGENT_KEY as string });
const runId = Date.now().toString(36);
const model = new ScriptedModel([
  [call(`${runId}-deploy`, 'deploy', { service: 'api', replicas: 10 }), call(`${runId}-drop`, 'drop_table', { table: 'users' })],
  [say('api is deployed; dropping users was refused.')],
]);

/** The agent, built the same way in every process that touches this run. */
function makeAgent() {
  const deploy = approvalTool(cs, {
    name: 'deploy',
    description: 'Deploy a service',
    parameters: z.object({ service: z.string(), replicas: z.number() }),
    execute: async ({ service, replicas }) => `deployed ${service} with ${replicas} replicas`,
  });
  const dropTable = approvalTool(cs, {
    name: 'drop_table',
    description: 'Drop a table',
    parameters: z.object({ table: z.string() }),
    execute: async ({ table }) => {
      process.exitCode = 1; // never reached: the reviewer denies it
      return `dropped ${table}`;
    },
  });
  return new Agent({ name: 'ops', model, tools: [deploy, dropTable] });
}

const first = await run(makeAgent(), 'Deploy api with 10 replicas, then drop the users table.');
console.log(`run paused: ${first.interruptions.length} tool calls await approval`);
const saved = first.state.toString();

const reviewing = playReviewer([
  { tool: 'deploy', decision: { decision: 'approve', arguments: { service: 'api', replicas: 2 } } },
  { tool: 'drop_table', decision: { decision: 'deny', reason: 'not during the freeze' } },
]);
// Later, possibly in another process: restore the run and let Countersign's decisions resolve it.
const agent = makeAgent();
const state = await RunState.fromString(agent, saved);
for (const r of await resolveInterruptions(state)) console.log(`${r.item.name}: ${r.outcome}${r.message ? ` (${r.message})` : ''}`);
await reviewing;
const resumed = await run(agent, state);
console.log('model:', resumed.finalOutput);
