import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Agent,
  type AgentInputItem,
  type AgentOutputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  RunState,
  run,
  type StreamEvent,
  setTracingDisabled,
  Usage,
} from '@openai/agents';
import { z } from 'zod';
import { type World, world } from '../../countersign/test/helpers.js';
import { approvalTool, resolveInterruptions } from '../src/adapters/openai-agents.js';
import { createClient } from '../src/index.js';
import { actionsFor as actionsFor_, decideWhenPending as decide } from './support.js';

// No network: the runs below talk to a scripted model and an in-process gateway only.
setTracingDisabled(true);

let w: World;
before(async () => {
  w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
});
after(async () => w.close());

const client = () => createClient({ url: w.gw.url, apiKey: w.keys.agent });

/** A model that answers each request with the next scripted turn and keeps what it was sent. */
class ScriptedModel implements Model {
  readonly inputs: AgentInputItem[][] = [];
  constructor(private readonly turns: AgentOutputItem[][]) {}

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.inputs.push(typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : structuredClone(request.input));
    const output = this.turns.shift();
    if (!output) throw new Error('the scripted model has no turn left');
    return { usage: new Usage(), output };
  }

  getStreamedResponse(): AsyncIterable<StreamEvent> {
    throw new Error('the scripted model does not stream');
  }
}

/** One model turn that calls tools (in parallel, when several). */
const calls = (...cs: { id: string; name: string; args: Record<string, unknown> }[]): AgentOutputItem[] =>
  cs.map((c) => ({ type: 'function_call', callId: c.id, name: c.name, arguments: JSON.stringify(c.args), status: 'completed' }));

/** One model turn that answers in text. */
const answer = (text: string): AgentOutputItem[] => [
  { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] },
];

/** The tool results a model was shown, as [call id, text]. */
function toolResultsIn(input: AgentInputItem[] | undefined): [string, unknown][] {
  return (input ?? []).flatMap((item): [string, unknown][] => (item.type === 'function_call_result' ? [[item.callId, item.output]] : []));
}
const text = (value: string) => ({ type: 'text', text: value });

const decideWhenPending = (tool: string, decision: Record<string, unknown>, which?: (args: Record<string, unknown>) => boolean) =>
  decide(w, tool, decision, which);

const actionsOf = (tool: string) => actionsFor_(w, tool);

const service = z.object({ service: z.string(), replicas: z.number() });

/** A gated tool over `service` that records every run. */
function serviceTool(name: string, ran: unknown[], approval: Parameters<typeof approvalTool>[2] = {}) {
  return approvalTool(
    client(),
    {
      name,
      description: 'Change a service',
      parameters: service,
      execute: async (args) => {
        ran.push(args);
        return `${name} ${args.service} x${args.replicas}`;
      },
    },
    approval,
  );
}

test('a call held for review interrupts the run, and once approved with edited arguments runs with the edited ones', async () => {
  const ran: unknown[] = [];
  const deploy = approvalTool(
    client(),
    {
      name: 'oa_deploy_edit',
      description: 'Deploy a service',
      parameters: service,
      execute: async (args) => {
        ran.push(args);
        return { deployed: args.service, replicas: args.replicas };
      },
    },
    { resource: (a) => `service:${a.service}` },
  );
  const model = new ScriptedModel([
    calls({ id: 'call-oa-edit-1', name: 'oa_deploy_edit', args: { service: 'api', replicas: 10 } }),
    answer('Deployed.'),
  ]);
  const agent = new Agent({ name: 'ops', model, tools: [deploy] });

  const first = await run(agent, 'Deploy api with 10 replicas');
  assert.equal(first.interruptions.length, 1);
  assert.deepEqual(ran, []);

  const resolving = resolveInterruptions(first);
  const decided = await decideWhenPending('oa_deploy_edit', { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  assert.equal(decided.resource, 'service:api');
  const [resolution] = await resolving;
  assert.equal(resolution?.outcome, 'approved');
  assert.equal(resolution?.action?.id, decided.id);

  const resumed = await run(agent, first.state);
  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.equal(resumed.finalOutput, 'Deployed.');
  assert.deepEqual(toolResultsIn(model.inputs[1]), [['call-oa-edit-1', text('{"deployed":"api","replicas":2}')]]);

  const final = await client().getAction(decided.id);
  assert.equal(final.status, 'executed');
  assert.ok(final.redeemed_at);
  assert.deepEqual(final.result?.output, { deployed: 'api', replicas: 2 });
});

test('a denied call never runs and the model next reads who denied it and why', async () => {
  let ran = false;
  const dropTable = approvalTool(client(), {
    name: 'oa_drop_table',
    description: 'Drop a table',
    parameters: z.object({ table: z.string() }),
    execute: async () => {
      ran = true;
      return 'dropped';
    },
  });
  const model = new ScriptedModel([
    calls({ id: 'call-oa-deny-1', name: 'oa_drop_table', args: { table: 'users' } }),
    answer('I was not allowed to.'),
  ]);
  const agent = new Agent({ name: 'dba', model, tools: [dropTable] });

  const first = await run(agent, 'Drop the users table');
  const resolving = resolveInterruptions(first);
  await decideWhenPending('oa_drop_table', { decision: 'deny', reason: 'not during the freeze' });
  const [resolution] = await resolving;
  const message = 'Denied by alice@example.com: not during the freeze. The tool "oa_drop_table" was not run.';
  assert.equal(resolution?.outcome, 'rejected');
  assert.equal(resolution?.message, message);

  const resumed = await run(agent, first.state);
  assert.equal(ran, false);
  assert.equal(resumed.finalOutput, 'I was not allowed to.');
  assert.deepEqual(toolResultsIn(model.inputs[1]), [['call-oa-deny-1', text(message)]]);
  assert.deepEqual(
    (await actionsOf('oa_drop_table')).map((a) => a.status),
    ['denied'],
  );
});

test('three calls in one turn are decided independently: two run, one is refused', async () => {
  const ran: unknown[] = [];
  const restart = serviceTool('oa_restart_par', ran);
  const model = new ScriptedModel([
    calls(
      ...['api', 'web', 'worker'].map((s, i) => ({ id: `call-oa-par-${i}`, name: 'oa_restart_par', args: { service: s, replicas: 1 } })),
    ),
    answer('Restarted api and worker; web was refused.'),
  ]);
  const agent = new Agent({ name: 'ops-par', model, tools: [restart] });

  const first = await run(agent, 'Restart everything');
  assert.equal(first.interruptions.length, 3);
  const resolving = resolveInterruptions(first);
  for (const [s, decision] of [
    ['web', 'deny'],
    ['worker', 'approve'],
    ['api', 'approve'],
  ] as const) {
    await decideWhenPending('oa_restart_par', { decision, reason: `${decision} ${s}` }, (a) => a.service === s);
  }
  const outcomes = (await resolving).map((r) => r.outcome);
  assert.deepEqual(outcomes, ['approved', 'rejected', 'approved']);

  await run(agent, first.state);
  assert.deepEqual(ran.map((a) => (a as { service: string }).service).sort(), ['api', 'worker']);
  assert.deepEqual(toolResultsIn(model.inputs[1]), [
    ['call-oa-par-0', text('oa_restart_par api x1')],
    ['call-oa-par-1', text('Denied by alice@example.com: deny web. The tool "oa_restart_par" was not run.')],
    ['call-oa-par-2', text('oa_restart_par worker x1')],
  ]);
  assert.deepEqual((await actionsOf('oa_restart_par')).map((a) => a.status).sort(), ['denied', 'executed', 'executed']);
});

test('a read-only call approved at once by the policy runs without interrupting the run', async () => {
  const read: string[] = [];
  const readLogs = approvalTool(
    client(),
    {
      name: 'oa_read_logs',
      description: 'Read a service log',
      parameters: z.object({ service: z.string() }),
      execute: async ({ service }) => {
        read.push(service);
        return `no errors in ${service}`;
      },
    },
    { annotations: { readOnlyHint: true } },
  );
  const model = new ScriptedModel([
    calls({ id: 'call-oa-ro-1', name: 'oa_read_logs', args: { service: 'api' } }),
    answer('The api log is clean.'),
  ]);

  const result = await run(new Agent({ name: 'reader', model, tools: [readLogs] }), 'Any errors in api?');
  assert.equal(result.interruptions.length, 0);
  assert.equal(result.finalOutput, 'The api log is clean.');
  assert.deepEqual(read, ['api']);
  const [action] = await actionsOf('oa_read_logs');
  assert.equal(action?.status, 'executed');
  assert.equal(action?.decided_by?.type, 'policy');
});

test('a run restored from its serialized state with a new Agent runs the approved call once, with the approved arguments', async () => {
  const ran: unknown[] = [];
  // Each process builds its own client, tools and agent; only the serialized state is carried over.
  const agentWith = (model: ScriptedModel) => new Agent({ name: 'ops-restored', model, tools: [serviceTool('oa_scale_restored', ran)] });

  const first = await run(
    agentWith(new ScriptedModel([calls({ id: 'call-oa-restored-1', name: 'oa_scale_restored', args: { service: 'api', replicas: 10 } })])),
    'Scale api to 10',
  );
  assert.equal(first.interruptions.length, 1);
  const saved = first.state.toString();
  await decideWhenPending('oa_scale_restored', { decision: 'approve', arguments: { service: 'api', replicas: 3 } });

  const model = new ScriptedModel([answer('Scaled.')]);
  const agent = agentWith(model);
  const restored = await RunState.fromString(agent, saved);
  const [resolution] = await resolveInterruptions(restored);
  assert.equal(resolution?.outcome, 'approved');
  const resumed = await run(agent, restored);
  assert.deepEqual(ran, [{ service: 'api', replicas: 3 }]);
  assert.equal(resumed.finalOutput, 'Scaled.');

  // The same saved state resolved and resumed once more returns the recorded output and does not run again.
  const replayModel = new ScriptedModel([answer('Scaled, as before.')]);
  const replayAgent = agentWith(replayModel);
  const replay = await RunState.fromString(replayAgent, saved);
  assert.equal((await resolveInterruptions(replay))[0]?.outcome, 'approved');
  await run(replayAgent, replay);
  assert.equal(ran.length, 1);
  assert.deepEqual(toolResultsIn(replayModel.inputs[0]), [['call-oa-restored-1', text('oa_scale_restored api x3')]]);
  const actions = await actionsOf('oa_scale_restored');
  assert.equal(actions.length, 1);
  assert.equal(actions[0]?.status, 'executed');
});

test('without waiting, a call still under review is left pending and interrupts the resumed run again', async () => {
  const ran: unknown[] = [];
  const model = new ScriptedModel([
    calls({ id: 'call-oa-nowait-1', name: 'oa_resize_nowait', args: { service: 'db', replicas: 4 } }),
    answer('Resized.'),
  ]);
  const agent = new Agent({ name: 'ops-nowait', model, tools: [serviceTool('oa_resize_nowait', ran)] });

  const first = await run(agent, 'Resize db');
  const [early] = await resolveInterruptions(first, { wait: false });
  assert.equal(early?.outcome, 'pending');
  assert.equal(early?.action?.status, 'pending');
  const again = await run(agent, first.state);
  assert.equal(again.interruptions.length, 1);

  await decideWhenPending('oa_resize_nowait', { decision: 'approve' });
  assert.equal((await resolveInterruptions(again, { wait: false }))[0]?.outcome, 'approved');
  const done = await run(agent, again.state);
  assert.equal(done.finalOutput, 'Resized.');
  assert.deepEqual(ran, [{ service: 'db', replicas: 4 }]);
  assert.equal((await actionsOf('oa_resize_nowait')).length, 1);
});

test("in 'wait' mode the call waits for its decision inside the run, without an interruption", async () => {
  const ran: unknown[] = [];
  const model = new ScriptedModel([
    calls({ id: 'call-oa-wait-1', name: 'oa_scale_wait', args: { service: 'api', replicas: 5 } }),
    answer('Done.'),
  ]);
  const agent = new Agent({ name: 'ops-wait', model, tools: [serviceTool('oa_scale_wait', ran, { mode: 'wait' })] });

  const running = run(agent, 'Scale api to 5');
  await decideWhenPending('oa_scale_wait', { decision: 'approve', arguments: { service: 'api', replicas: 4 } });
  const result = await running;
  assert.equal(result.interruptions.length, 0);
  assert.equal(result.finalOutput, 'Done.');
  assert.deepEqual(ran, [{ service: 'api', replicas: 4 }]);
});

test('approving the interruption in the run state alone does not bypass Countersign: the call still waits for its decision', async () => {
  const ran: unknown[] = [];
  const model = new ScriptedModel([
    calls({ id: 'call-oa-bypass-1', name: 'oa_wipe_bypass', args: { service: 'cache', replicas: 0 } }),
    answer('Not wiped.'),
  ]);
  const agent = new Agent({ name: 'ops-bypass', model, tools: [serviceTool('oa_wipe_bypass', ran)] });

  const first = await run(agent, 'Wipe the cache');
  for (const item of first.interruptions) first.state.approve(item);
  const resuming = run(agent, first.state);
  await decideWhenPending('oa_wipe_bypass', { decision: 'deny', reason: 'cache is shared' });
  await resuming;

  assert.deepEqual(ran, []);
  assert.deepEqual(toolResultsIn(model.inputs[1]), [
    ['call-oa-bypass-1', text('Denied by alice@example.com: cache is shared. The tool "oa_wipe_bypass" was not run.')],
  ]);
});

test("edited arguments that fail the tool's schema are reported as a failed run and never executed", async () => {
  const ran: unknown[] = [];
  const model = new ScriptedModel([
    calls({ id: 'call-oa-badedit-1', name: 'oa_scale_badedit', args: { service: 'api', replicas: 2 } }),
    answer('That failed.'),
  ]);
  const agent = new Agent({ name: 'ops-badedit', model, tools: [serviceTool('oa_scale_badedit', ran)] });

  const first = await run(agent, 'Scale api to 2');
  await decideWhenPending('oa_scale_badedit', { decision: 'approve', arguments: { service: 'api', replicas: 'two' } });
  await resolveInterruptions(first);
  await run(agent, first.state);

  assert.deepEqual(ran, []);
  const [action] = await actionsOf('oa_scale_badedit');
  assert.equal(action?.status, 'failed');
  const output = action?.result?.output as { error?: string } | undefined;
  assert.match(String(output?.error), /do not match the parameters of "oa_scale_badedit"/);
});

test("Countersign sees the arguments as the model sent them; the schema's defaults apply when the tool runs", async () => {
  const ran: unknown[] = [];
  const scale = approvalTool(client(), {
    name: 'oa_scale_defaults',
    description: 'Scale a service',
    parameters: z.object({ service: z.string(), replicas: z.number().default(1) }),
    execute: async (args) => {
      ran.push(args);
      return 'scaled';
    },
  });
  const model = new ScriptedModel([
    calls({ id: 'call-oa-defaults-1', name: 'oa_scale_defaults', args: { service: 'api' } }),
    answer('Scaled.'),
  ]);
  const agent = new Agent({ name: 'ops-defaults', model, tools: [scale] });

  const first = await run(agent, 'Scale api');
  const resolving = resolveInterruptions(first);
  const decided = await decideWhenPending('oa_scale_defaults', { decision: 'approve' });
  assert.deepEqual(decided.arguments, { service: 'api' });
  await resolving;
  await run(agent, first.state);

  assert.deepEqual(ran, [{ service: 'api', replicas: 1 }]);
  assert.equal((await client().getAction(decided.id)).status, 'executed');
});
