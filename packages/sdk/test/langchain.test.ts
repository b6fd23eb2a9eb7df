import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { type FakeBuiltModel, fakeModel } from '@langchain/core/testing';
import { type StructuredTool, tool } from '@langchain/core/tools';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent, humanInTheLoopMiddleware } from 'langchain';
import { z } from 'zod';
import { type World, world } from '../../countersign/test/helpers.js';
import { answerHitlInterrupt, countersignMiddleware, withApproval, withApprovals } from '../src/adapters/langchain.js';
import { createClient, isRefusal } from '../src/index.js';
import { actionsFor as actionsFor_, decideWhenPending as decide } from './support.js';

let w: World;
before(async () => {
  w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
});
after(async () => w.close());

const client = () => createClient({ url: w.gw.url, apiKey: w.keys.agent });

const decideWhenPending = (tool: string, decision: Record<string, unknown>, which?: (args: Record<string, unknown>) => boolean) =>
  decide(w, tool, decision, which);

const actionsFor = (tool: string) => actionsFor_(w, tool);

/** A deploy tool that records the arguments it actually ran with. */
function deployTool(name: string, ran: unknown[]) {
  return tool(
    async (args) => {
      ran.push(args);
      return `deployed ${args.service} x${args.replicas}`;
    },
    { name, description: 'Deploy a service', schema: z.object({ service: z.string(), replicas: z.number() }) },
  );
}

/** A scripted model: one turn of tool calls, then a final answer. */
function scriptedModel(calls: { id: string; name: string; args: Record<string, unknown> }[], answer = 'Done.'): FakeBuiltModel {
  return fakeModel().respondWithTools(calls).respond(new AIMessage(answer));
}

/** The tool results the model was shown on its `turn`-th call (0-based), as [tool_call_id, content, status]. */
function toolResultsSeen(model: FakeBuiltModel, turn: number) {
  const messages: BaseMessage[] = model.calls[turn]?.messages ?? [];
  return messages.filter((m) => ToolMessage.isInstance(m)).map((m) => [m.tool_call_id, m.content, m.status]);
}

const ask = (content: string) => ({ messages: [new HumanMessage(content)] });

test('a wrapped tool approved with edited arguments runs with the edited ones, and the action ends executed', async () => {
  const ran: unknown[] = [];
  const deploy = withApproval(client(), deployTool('lc-deploy-edit', ran), { resource: (a) => `service:${a.service}` });
  const model = scriptedModel([{ id: 'call-lc-edit', name: 'lc-deploy-edit', args: { service: 'api', replicas: 10 } }], 'Deployed.');
  const running = createAgent({ model, tools: [deploy] }).invoke(ask('Deploy api with 10 replicas'));
  const decided = await decideWhenPending('lc-deploy-edit', { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  assert.equal(decided.resource, 'service:api');
  const result = await running;

  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.deepEqual(toolResultsSeen(model, 1), [['call-lc-edit', 'deployed api x2', 'success']]);
  assert.equal(result.messages.at(-1)?.text, 'Deployed.');
  const final = await client().getAction(decided.id);
  assert.equal(final.status, 'executed');
  assert.ok(final.redeemed_at);
  assert.equal(final.result?.output, 'deployed api x2');
});

test('a wrapped tool that is denied never runs, and the model next reads who denied it and why', async () => {
  const ran: unknown[] = [];
  const deploy = withApproval(client(), deployTool('lc-deploy-deny', ran));
  const model = scriptedModel([{ id: 'call-lc-deny', name: 'lc-deploy-deny', args: { service: 'api', replicas: 3 } }]);
  const running = createAgent({ model, tools: [deploy] }).invoke(ask('Deploy api'));
  await decideWhenPending('lc-deploy-deny', { decision: 'deny', reason: 'not during the freeze' });
  const result = await running;

  assert.deepEqual(ran, []);
  const reason = 'Denied by alice@example.com: not during the freeze. The tool "lc-deploy-deny" was not run.';
  assert.deepEqual(toolResultsSeen(model, 1), [['call-lc-deny', reason, 'error']]);
  const refusal = result.messages.find((m) => ToolMessage.isInstance(m))?.artifact;
  assert.ok(isRefusal(refusal));
  assert.equal(refusal.status, 'denied');
});

test('three parallel calls of wrapped tools are decided independently: two run, one is refused', async () => {
  const ran: unknown[] = [];
  let statusReads = 0;
  const status = tool(
    async () => {
      statusReads += 1;
      return 'all green';
    },
    { name: 'lc-status-par', description: 'Read the status (not gated)', schema: z.object({}) },
  );
  const tools = withApprovals(client(), [deployTool('lc-deploy-par', ran), status], { except: ['lc-status-par'] });
  const model = scriptedModel([
    ...['api', 'web', 'worker'].map((service, i) => ({ id: `call-lc-par-${i}`, name: 'lc-deploy-par', args: { service, replicas: 1 } })),
    { id: 'call-lc-par-status', name: 'lc-status-par', args: {} },
  ]);
  const running = createAgent({ model, tools: [...tools] }).invoke(ask('Deploy everything'));
  for (const [service, decision] of [
    ['worker', 'approve'],
    ['web', 'deny'],
    ['api', 'approve'],
  ] as const) {
    await decideWhenPending('lc-deploy-par', { decision, reason: `${decision} ${service}` }, (a) => a.service === service);
  }
  await running;

  assert.deepEqual(ran.map((a) => (a as { service: string }).service).sort(), ['api', 'worker']);
  assert.equal(statusReads, 1, 'the tool left out by `except` runs without approval');
  assert.deepEqual(toolResultsSeen(model, 1), [
    ['call-lc-par-0', 'deployed api x1', 'success'],
    ['call-lc-par-1', 'Denied by alice@example.com: deny web. The tool "lc-deploy-par" was not run.', 'error'],
    ['call-lc-par-2', 'deployed worker x1', 'success'],
    ['call-lc-par-status', 'all green', 'success'],
  ]);
  assert.deepEqual((await actionsFor('lc-deploy-par')).map((a) => a.status).sort(), ['denied', 'executed', 'executed']);
});

test('edited arguments that fail the tool schema never run: the action ends failed and the model reads why', async () => {
  const ran: unknown[] = [];
  const deploy = withApproval(client(), deployTool('lc-deploy-invalid', ran));
  const model = scriptedModel([{ id: 'call-lc-invalid', name: 'lc-deploy-invalid', args: { service: 'api', replicas: 3 } }]);
  const running = createAgent({ model, tools: [deploy] }).invoke(ask('Deploy api'));
  const decided = await decideWhenPending('lc-deploy-invalid', { decision: 'approve', arguments: { service: 'api', replicas: 'two' } });
  await running;

  assert.deepEqual(ran, []);
  const [seen] = toolResultsSeen(model, 1);
  assert.equal(seen?.[2], 'error');
  assert.match(String(seen?.[1]), /the approved arguments do not match the input schema of "lc-deploy-invalid"/);
  const final = await client().getAction(decided.id);
  assert.equal(final.status, 'failed');
});

test('a call that already ran is not run again when the agent makes it again with the same tool-call id', async () => {
  const ran: unknown[] = [];
  // Read-only calls are approved at once by the default policy, so no reviewer is needed here.
  const deploy = withApproval(client(), deployTool('lc-deploy-once', ran), { annotations: { readOnlyHint: true } });
  const toolCall = { id: 'call-lc-once', name: 'lc-deploy-once', args: { service: 'api', replicas: 1 } };
  await createAgent({ model: scriptedModel([toolCall]), tools: [deploy] }).invoke(ask('Deploy api'));
  const replay = scriptedModel([toolCall]);
  await createAgent({ model: replay, tools: [deploy] }).invoke(ask('Deploy api'));

  assert.equal(ran.length, 1);
  assert.deepEqual(toolResultsSeen(replay, 1), [['call-lc-once', 'deployed api x1', 'success']]);
  assert.deepEqual(
    (await actionsFor('lc-deploy-once')).map((a) => a.status),
    ['executed'],
  );
});

test('the middleware runs an approved call with the edited arguments, and the action ends executed', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([{ id: 'call-mw-edit', name: 'mw-deploy-edit', args: { service: 'api', replicas: 10 } }]);
  const agent = createAgent({
    model,
    tools: [deployTool('mw-deploy-edit', ran)],
    middleware: [countersignMiddleware(client(), { purpose: (args, c) => `${c.name} ${String(args.service)}` })],
  });
  const running = agent.invoke(ask('Deploy api with 10 replicas'));
  const decided = await decideWhenPending('mw-deploy-edit', { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  assert.equal(decided.purpose, 'mw-deploy-edit api');
  await running;

  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.deepEqual(toolResultsSeen(model, 1), [['call-mw-edit', 'deployed api x2', 'success']]);
  const final = await client().getAction(decided.id);
  assert.equal(final.status, 'executed');
  assert.equal(final.result?.output, 'deployed api x2');
});

test('the middleware refuses a denied call: the tool never runs and the model next reads the reason', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([{ id: 'call-mw-deny', name: 'mw-deploy-deny', args: { service: 'api', replicas: 3 } }]);
  const agent = createAgent({ model, tools: [deployTool('mw-deploy-deny', ran)], middleware: [countersignMiddleware(client())] });
  const running = agent.invoke(ask('Deploy api'));
  await decideWhenPending('mw-deploy-deny', { decision: 'deny', reason: 'not during the freeze' });
  await running;

  assert.deepEqual(ran, []);
  const reason = 'Denied by alice@example.com: not during the freeze. The tool "mw-deploy-deny" was not run.';
  assert.deepEqual(toolResultsSeen(model, 1), [['call-mw-deny', reason, 'error']]);
});

test('with the middleware, edited arguments that fail the tool schema never run and the action ends failed', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([{ id: 'call-mw-invalid', name: 'mw-deploy-invalid', args: { service: 'api', replicas: 3 } }]);
  const agent = createAgent({ model, tools: [deployTool('mw-deploy-invalid', ran)], middleware: [countersignMiddleware(client())] });
  const running = agent.invoke(ask('Deploy api'));
  const decided = await decideWhenPending('mw-deploy-invalid', { decision: 'approve', arguments: { service: 'api', replicas: 'two' } });
  await running;

  assert.deepEqual(ran, []);
  const [seen] = toolResultsSeen(model, 1);
  assert.equal(seen?.[2], 'error');
  assert.match(String(seen?.[1]), /did not match expected schema/);
  assert.equal((await client().getAction(decided.id)).status, 'failed');
});

test('with the middleware, three parallel calls are decided independently and tools it does not gate run at once', async () => {
  const ran: unknown[] = [];
  let statusReads = 0;
  const status = tool(
    async () => {
      statusReads += 1;
      return 'all green';
    },
    { name: 'mw-status-par', description: 'Read the status', schema: z.object({}) },
  );
  const deploy = deployTool('mw-deploy', ran);
  const model = scriptedModel([
    ...['api', 'web', 'worker'].map((service, i) => ({ id: `call-mw-par-${i}`, name: 'mw-deploy', args: { service, replicas: 1 } })),
    { id: 'call-mw-par-status', name: 'mw-status-par', args: {} },
  ]);
  const agent = createAgent({
    model,
    tools: [deploy, status],
    middleware: [countersignMiddleware(client(), { tools: [deploy], toolName: (name) => `${name}-par` })],
  });
  const running = agent.invoke(ask('Deploy everything'));
  for (const [service, decision] of [
    ['web', 'deny'],
    ['api', 'approve'],
    ['worker', 'approve'],
  ] as const) {
    await decideWhenPending('mw-deploy-par', { decision, reason: `${decision} ${service}` }, (a) => a.service === service);
  }
  await running;

  assert.deepEqual(ran.map((a) => (a as { service: string }).service).sort(), ['api', 'worker']);
  assert.equal(statusReads, 1, 'the tool left out of `tools` runs without approval');
  assert.deepEqual(toolResultsSeen(model, 1), [
    ['call-mw-par-0', 'deployed api x1', 'success'],
    ['call-mw-par-1', 'Denied by alice@example.com: deny web. The tool "mw-deploy-par" was not run.', 'error'],
    ['call-mw-par-2', 'deployed worker x1', 'success'],
    ['call-mw-par-status', 'all green', 'success'],
  ]);
  assert.deepEqual((await actionsFor('mw-deploy-par')).map((a) => a.status).sort(), ['denied', 'executed', 'executed']);
});

/** An agent paused by the built-in human-in-the-loop middleware for every call of `tool`. */
function hitlAgent(model: FakeBuiltModel, deploy: StructuredTool) {
  const agent = createAgent({
    model,
    tools: [deploy],
    middleware: [humanInTheLoopMiddleware({ interruptOn: { [deploy.name]: true } })],
    checkpointer: new MemorySaver(),
  });
  const config = { configurable: { thread_id: `thread-${deploy.name}` } };
  return {
    start: (content: string) => agent.invoke(ask(content), config),
    resume: (resume: unknown) => agent.invoke(new Command({ resume }), config),
  };
}

test('a human-in-the-loop interrupt is answered from Countersign: an edit and an approval resume the agent, and both end executed', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([
    { id: 'call-hitl-api', name: 'hitl-deploy', args: { service: 'api', replicas: 10 } },
    { id: 'call-hitl-web', name: 'hitl-deploy', args: { service: 'web', replicas: 1 } },
  ]);
  const agent = hitlAgent(model, deployTool('hitl-deploy', ran));
  const paused = await agent.start('Deploy api and web');
  assert.equal(paused.__interrupt__?.length, 1);

  const answering = answerHitlInterrupt(client(), paused);
  await decideWhenPending('hitl-deploy', { decision: 'approve', arguments: { service: 'api', replicas: 2 } }, (a) => a.service === 'api');
  await decideWhenPending('hitl-deploy', { decision: 'approve' }, (a) => a.service === 'web');
  const answer = await answering;
  assert.ok(answer);
  assert.deepEqual(answer.resume, {
    decisions: [{ type: 'edit', editedAction: { name: 'hitl-deploy', args: { service: 'api', replicas: 2 } } }, { type: 'approve' }],
  });
  assert.equal(await answerHitlInterrupt(client(), { messages: paused.messages }), undefined, 'no interrupt, nothing to answer');

  const resumed = await agent.resume(answer.resume);
  assert.deepEqual(ran, [
    { service: 'api', replicas: 2 },
    { service: 'web', replicas: 1 },
  ]);
  const reported = await answer.report(resumed.messages);
  assert.deepEqual(
    reported.map((a) => [a.status, a.result?.output]),
    [
      ['executed', 'deployed api x2'],
      ['executed', 'deployed web x1'],
    ],
  );
});

test('a denial in a human-in-the-loop interrupt is resumed as a rejection: the model reads why, and the approved call neither runs nor is redeemed', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([
    { id: 'call-hitl-deny-api', name: 'hitl-deploy-deny', args: { service: 'api', replicas: 1 } },
    { id: 'call-hitl-deny-web', name: 'hitl-deploy-deny', args: { service: 'web', replicas: 1 } },
  ]);
  const agent = hitlAgent(model, deployTool('hitl-deploy-deny', ran));
  const paused = await agent.start('Deploy api and web');

  const answering = answerHitlInterrupt(client(), paused);
  await decideWhenPending('hitl-deploy-deny', { decision: 'approve' }, (a) => a.service === 'api');
  await decideWhenPending('hitl-deploy-deny', { decision: 'deny', reason: 'web is frozen' }, (a) => a.service === 'web');
  const answer = await answering;
  assert.ok(answer);
  const reason = 'Denied by alice@example.com: web is frozen. The tool "hitl-deploy-deny" was not run.';
  assert.deepEqual(answer.resume, { decisions: [{ type: 'approve' }, { type: 'reject', message: reason }] });

  const resumed = await agent.resume(answer.resume);
  assert.deepEqual(ran, [], 'the built-in middleware runs no call of an interrupt with a rejection');
  assert.deepEqual(toolResultsSeen(model, 1), [['call-hitl-deny-web', reason, 'error']]);
  assert.deepEqual(await answer.report(resumed.messages), []);
  const api = answer.actions[0];
  assert.equal(api?.status, 'approved');
  assert.equal((await client().getAction(api.id)).redeemed_at, null);
});
