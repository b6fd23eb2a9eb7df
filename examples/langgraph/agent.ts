/**
 * A LangGraph JS graph of your own whose tool calls are approved in Countersign. The model is scripted (no
 * API key): it calls `deploy` (10 replicas) and `drop_table` in one turn, and each call is sent to the tools
 * node as its own task. The tools node is `approvalNode` instead of `ToolNode`, so both calls pause the graph
 * with an `interrupt()` each; the checkpointer keeps the paused run. `resumeFromCountersign` waits for the
 * reviewer and resumes both interrupts with one `Command`: the deploy runs with the reviewer's edit
 * (2 replicas), the drop never runs and the model reads who denied it and why.
 *
 *   npm run example:langgraph
 */
import { createClient } from '@countersign/sdk';
import { approvalNode, isApprovalInterrupt, resumeFromCountersign } from '@countersign/sdk/langgraph';
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { END, type Interrupt, MemorySaver, MessagesAnnotation, Send, START, StateGraph } from '@langchain/langgraph';
import { z } from 'zod';
import { playReviewer } from '../reviewer.js';

const cs = createClient({ url: process.env.COUNTERSIGN_URL as string, apiKey: process.env.COUNTERSIGN_AGENT_KEY as string });
const runId = Date.now().toString(36);

const deploy = tool(async ({ service, replicas }) => `deployed ${service} with ${replicas} replicas`, {
  name: 'deploy',
  description: 'Deploy a service',
  schema: z.object({ service: z.string(), replicas: z.number() }),
});
const dropTable = tool(
  async ({ table }) => {
    process.exitCode = 1; // never reached: the reviewer denies it
    return `dropped ${table}`;
  },
  { name: 'drop_table', description: 'Drop a table', schema: z.object({ table: z.string() }) },
);

const model = fakeModel()
  .respondWithTools([
    { id: `${runId}-deploy`, name: 'deploy', args: { service: 'api', replicas: 10 } },
    { id: `${runId}-drop`, name: 'drop_table', args: { table: 'users' } },
  ])
  .respond(new AIMessage('api is deployed; dropping users was refused.'));

async function callModel(state: { messages: BaseMessage[] }) {
  for (const m of state.messages) if (ToolMessage.isInstance(m)) console.log(`model reads ${m.name}: ${m.text}`);
  return { messages: [await model.invoke(state.messages)] };
}

/** Each tool call of the last message is its own task, so parallel calls pause (and are resumed) independently. */
function route(state: { messages: BaseMessage[] }) {
  const last = state.messages.at(-1);
  const calls = last && AIMessage.isInstance(last) ? (last.tool_calls ?? []) : [];
  return calls.length === 0 ? END : calls.map((call) => new Send('tools', { ...state, lg_tool_call: call }));
}

const graph = new StateGraph(MessagesAnnotation)
  .addNode('agent', callModel)
  .addNode('tools', approvalNode(cs, [deploy, dropTable], { session_id: runId })) // was: new ToolNode([deploy, dropTable])
  .addEdge(START, 'agent')
  .addConditionalEdges('agent', route, ['tools', END])
  .addEdge('tools', 'agent')
  .compile({ checkpointer: new MemorySaver() });

const config = { configurable: { thread_id: runId } };
let state: { messages: BaseMessage[]; __interrupt__?: Interrupt[] } = await graph.invoke(
  { messages: [new HumanMessage('Deploy api with 10 replicas, then drop the users table.')] },
  config,
);
console.log(`graph paused: ${state.__interrupt__?.length ?? 0} interrupts`);
for (const i of state.__interrupt__ ?? []) {
  if (!isApprovalInterrupt(i.value)) continue;
  for (const a of i.value.approvals)
    console.log(`  ${a.tool} ${JSON.stringify(a.arguments)} awaits approval ${a.approval_id} (${a.review_url})`);
}

const reviewing = playReviewer([
  { tool: 'deploy', decision: { decision: 'approve', arguments: { service: 'api', replicas: 2 } } },
  { tool: 'drop_table', decision: { decision: 'deny', reason: 'not during the freeze' } },
]);
// Waits for the decisions, then resumes every decided interrupt with one Command (a map of interrupt id -> hint).
for (let r = await resumeFromCountersign(cs, state); r?.command; r = await resumeFromCountersign(cs, state)) {
  console.log(`resuming ${Object.keys(r.resume).length} interrupts with one command`);
  state = await graph.invoke(r.command, config);
}
await reviewing;
console.log('model:', state.messages.at(-1)?.text);
