import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
// The example loop is written against the published package, so this test drives it with that same build.
import {
  type Action,
  applyToolApproval,
  approvalRequests,
  CountersignError,
  createClient,
  type ToolApprovalRequired,
} from '@countersign/sdk';
import { type AgentSpec, type Message, type Model, Run } from '../../../examples/harness/loop.js';
import { call, review, type World, world } from '../../countersign/test/helpers.js';

let w: World;
before(async () => {
  w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
});
after(async () => w.close());

const agentClient = () => createClient({ url: w.gw.url, apiKey: w.keys.agent });
const reviewer = () => createClient({ url: w.gw.url, apiKey: w.keys.alice });

/** A top-level agent delegating to a subagent that makes the given tool calls; records what ran and what its model read. */
function scenario(tag: string, calls: { id: string; name: string; args: Record<string, unknown> }[]) {
  const ran: { tool: string; args: Record<string, unknown> }[] = [];
  const subagentSaw: Message[][] = [];
  const sub: Model = (m) => {
    subagentSaw.push([...m]);
    return m.some((x) => x.role === 'tool')
      ? { text: m.flatMap((x) => (x.role === 'tool' ? [x.content] : [])).join(' | ') }
      : { toolCalls: calls };
  };
  const top: Model = (m) =>
    m.some((x) => x.role === 'tool')
      ? { text: `top: ${m.flatMap((x) => (x.role === 'tool' ? [x.content] : [])).join('')}` }
      : { toolCalls: [{ id: 'c-delegate', name: 'delegate', args: { agent: 'worker', task: 'do it' } }] };
  const tools = Object.fromEntries(
    calls.map((c) => [
      c.name,
      {
        run: async (args: Record<string, unknown>) => {
          ran.push({ tool: c.name, args });
          return `${c.name} ran with ${JSON.stringify(args)}`;
        },
      },
    ]),
  );
  const worker: AgentSpec = { name: 'worker', model: sub, tools };
  const spec: AgentSpec = { name: 'top', model: top, tools: {}, subagents: { worker } };
  return { run: new Run(agentClient(), spec, `harness-${tag}`), ran, subagentSaw };
}

async function paused(run: Run, input: string) {
  const r = await run.turn(input);
  assert.equal(r.type, 'turn.paused');
  return r.type === 'turn.paused' ? r.approvals : [];
}

test("a subagent's approval ends the top-level turn with tool.approval_required: tool, arguments, approval id and the parent_id chain", async () => {
  const { run, ran } = scenario('surface', [{ id: 'c1', name: 'hx-deploy', args: { service: 'api', replicas: 10 } }]);
  const [req] = await paused(run, 'ship it');
  assert.ok(req);
  assert.equal(req.type, 'tool.approval_required');
  assert.equal(req.tool, 'hx-deploy');
  assert.deepEqual(req.arguments, { service: 'api', replicas: 10 });
  assert.equal(req.tool_call_id, 'c1');
  assert.deepEqual(req.agent_path, ['top', 'worker']);
  assert.deepEqual(ran, []);

  const delegation = (await agentClient().getAction(req.parent_id as string)) as Action;
  assert.equal(delegation.tool, 'delegate');
  assert.equal(req.root_id, delegation.id, 'the approval surfaces under the top-level delegation');
  const action = await agentClient().getAction(req.approval_id);
  assert.equal(action.status, 'pending');

  // A UI following the run sees the same request on the event stream, filtered by the root of the chain.
  const ctl = new AbortController();
  const seen: ToolApprovalRequired[] = [];
  for await (const r of approvalRequests(agentClient(), { root: delegation.id }, { signal: ctl.signal, after: 0 })) {
    seen.push(r);
    ctl.abort();
  }
  assert.deepEqual(
    seen.map((r) => [r.approval_id, r.parent_id, r.root_id]),
    [[req.approval_id, delegation.id, delegation.id]],
  );
});

test('the next turn resumes the same subagent: approved with edited arguments, the tool runs once with the edited ones', async () => {
  const { run, ran, subagentSaw } = scenario('edit', [{ id: 'c1', name: 'hx-deploy-edit', args: { service: 'api', replicas: 10 } }]);
  const [req] = await paused(run, 'ship it');
  assert.ok(req);
  const done = await run.turn(
    [{ type: 'tool.approval', approval_id: req.approval_id, decision: 'approve', arguments: { service: 'api', replicas: 2 } }],
    {
      reviewer: reviewer(),
    },
  );
  assert.deepEqual(done, { type: 'turn.completed', output: 'top: hx-deploy-edit ran with {"service":"api","replicas":2}' });
  assert.deepEqual(ran, [{ tool: 'hx-deploy-edit', args: { service: 'api', replicas: 2 } }]);
  assert.equal(subagentSaw[0]?.length, 1, 'the subagent was not restarted: its first turn saw only the task');
  assert.equal((await agentClient().getAction(req.approval_id)).status, 'executed');
  assert.equal((await agentClient().getAction(req.parent_id as string)).status, 'executed', 'the delegation finished with its subagent');

  // A replayed turn never runs the tool again.
  const again = await run.turn([{ type: 'tool.approval', approval_id: req.approval_id }]);
  assert.equal(again.type, 'turn.completed');
  assert.equal(ran.length, 1);
});

test("a denial's reason reaches the subagent's model and its tool never runs; a parallel call is decided on its own", async () => {
  const { run, ran, subagentSaw } = scenario('deny', [
    { id: 'c1', name: 'hx-drop', args: { table: 'users' } },
    { id: 'c2', name: 'hx-vacuum', args: { table: 'users' } },
  ]);
  const reqs = await paused(run, 'clean up');
  assert.deepEqual(reqs.map((r) => r.tool).sort(), ['hx-drop', 'hx-vacuum']);
  const byTool = Object.fromEntries(reqs.map((r) => [r.tool, r.approval_id]));
  const done = await run.turn(
    [
      { type: 'tool.approval', approval_id: byTool['hx-drop'] as string, decision: 'deny', reason: 'not during the freeze' },
      { type: 'tool.approval', approval_id: byTool['hx-vacuum'] as string, decision: 'approve' },
    ],
    { reviewer: reviewer() },
  );
  assert.equal(done.type, 'turn.completed');
  assert.deepEqual(ran, [{ tool: 'hx-vacuum', args: { table: 'users' } }]);
  const lastSeen = subagentSaw.at(-1) ?? [];
  assert.ok(
    lastSeen.some(
      (m) => m.role === 'tool' && m.content === 'Denied by alice@example.com: not during the freeze. The tool "hx-drop" was not run.',
    ),
  );
});

test("a tool.approval without a decision takes the gateway's: still pending pauses again on the same approval, decided elsewhere resumes", async () => {
  const { run, ran } = scenario('gateway', [{ id: 'c1', name: 'hx-restart', args: { service: 'web' } }]);
  const [req] = await paused(run, 'restart web');
  assert.ok(req);
  const still = await run.turn([{ type: 'tool.approval', approval_id: req.approval_id }]);
  assert.equal(still.type, 'turn.paused');
  assert.deepEqual(
    still.type === 'turn.paused' ? still.approvals.map((a) => a.approval_id) : [],
    [req.approval_id],
    'no second action was created',
  );
  await review(w, req.approval_id, w.keys.alice, { decision: 'approve' }); // e.g. in the inbox or Slack
  const done = await run.turn([{ type: 'tool.approval', approval_id: req.approval_id }]);
  assert.equal(done.type, 'turn.completed');
  assert.deepEqual(ran, [{ tool: 'hx-restart', args: { service: 'web' } }]);
  const list = await call(w, 'GET', `/v1/actions?tool=hx-restart`, w.keys.alice);
  assert.equal(list.body.items.length, 1);
});

test('a tool.approval decision needs a person: the agent’s own key is refused and nothing changes', async () => {
  const { run } = scenario('agent-key', [{ id: 'c1', name: 'hx-self', args: {} }]);
  const [req] = await paused(run, 'go');
  assert.ok(req);
  await assert.rejects(
    applyToolApproval(
      agentClient(),
      { type: 'tool.approval', approval_id: req.approval_id, decision: 'approve' },
      { reviewer: agentClient() },
    ),
    (e: unknown) => e instanceof CountersignError && e.code === 'forbidden',
  );
  await assert.rejects(
    applyToolApproval(agentClient(), { type: 'tool.approval', approval_id: req.approval_id, decision: 'approve' }),
    (e: unknown) => e instanceof CountersignError && e.code === 'forbidden',
  );
  assert.equal((await agentClient().getAction(req.approval_id)).status, 'pending');
});
