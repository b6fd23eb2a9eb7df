/**
 * The harness flow end to end: a top-level "ops" agent delegates to a "deployer" subagent, whose deploy
 * needs approval. Turn 1 ends on tool.approval_required (also seen live on the event stream, as a UI
 * would); turn 2 sends tool.approval inputs (approve with an edit, deny with a reason) and the subagent
 * resumes where it paused.
 *
 *   npx tsx examples/with-gateway.ts npx tsx examples/harness/run.ts
 */
import { randomUUID } from 'node:crypto';
import { approvalRequests, createClient, type ToolApproval } from '@countersign/sdk';
import { type AgentSpec, type Message, type Model, Run } from './loop.js';

const url = process.env.COUNTERSIGN_URL as string;
const cs = createClient({ url, apiKey: process.env.COUNTERSIGN_AGENT_KEY as string });
// The person answering in the harness's UI; their own key records their decision (agents can never decide).
const reviewer = createClient({ url, apiKey: process.env.COUNTERSIGN_REVIEWER_KEY as string });

const lastTool = (m: readonly Message[]) => m.filter((x) => x.role === 'tool').map((x) => x.content);

const deployerModel: Model = (messages) =>
  messages.some((m) => m.role === 'tool')
    ? { text: `deployer: ${lastTool(messages).join(' | ')}` }
    : {
        toolCalls: [
          { id: 'call_deploy', name: 'deploy', args: { service: 'api', replicas: 10 } },
          { id: 'call_migrate', name: 'migrate', args: { database: 'orders', to: 'v42' } },
        ],
      };
const opsModel: Model = (messages) =>
  messages.some((m) => m.role === 'tool')
    ? { text: `ops: done. ${lastTool(messages).join(' ')}` }
    : { toolCalls: [{ id: 'call_delegate', name: 'delegate', args: { agent: 'deployer', task: 'ship api v2' } }] };

const deployer: AgentSpec = {
  name: 'deployer',
  model: deployerModel,
  tools: {
    deploy: { run: async (a) => `deployed ${a.service} with ${a.replicas} replicas` },
    migrate: { run: async () => 'migrated' },
  },
};
const ops: AgentSpec = { name: 'ops', model: opsModel, tools: {}, subagents: { deployer } };

const run = new Run(cs, ops, `run-${randomUUID()}`);

// What a UI shows: every approval anywhere in this run, subagents' included, live from the event stream.
const watching = new AbortController();
const seen = (async () => {
  for await (const req of approvalRequests(cs, { session: run.sessionId }, { signal: watching.signal, after: 0 })) {
    console.log(
      `  [event stream] ${req.type}: ${req.agent_path.join(' > ')} wants ${req.tool} ${JSON.stringify(req.arguments)} (${req.approval_id})`,
    );
  }
})();

console.log('turn 1: "ship api v2"');
const first = await run.turn('ship api v2');
if (first.type !== 'turn.paused') throw new Error('expected the run to pause for approval');
for (const a of first.approvals)
  console.log(`  turn ended: ${a.type} ${a.tool} from ${a.agent_path.join(' > ')}, parent ${a.parent_id}, root ${a.root_id}`);

const inputs: ToolApproval[] = first.approvals.map((a) =>
  a.tool === 'deploy'
    ? { type: 'tool.approval', approval_id: a.approval_id, decision: 'approve', arguments: { ...a.arguments, replicas: 2 } }
    : { type: 'tool.approval', approval_id: a.approval_id, decision: 'deny', reason: 'migrations wait for the weekend window' },
);
console.log('turn 2: tool.approval inputs', inputs.map((i) => `${i.decision} ${i.approval_id}`).join(', '));
const second = await run.turn(inputs, { reviewer });
console.log(`  ${second.type}: ${second.type === 'turn.completed' ? second.output : 'still waiting'}`);
watching.abort();
await seen;
if (second.type !== 'turn.completed') process.exit(1);
