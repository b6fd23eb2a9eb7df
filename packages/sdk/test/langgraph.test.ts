import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { Command, END, MemorySaver, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { z } from 'zod';
import { REPO_ROOT, type World, world } from '../../countersign/test/helpers.js';
import { approvalNode, resumeFromCountersign } from '../src/adapters/langgraph.js';
import { CountersignError, createClient, isRefusal } from '../src/index.js';
import {
  approvalInterrupts,
  deployTool,
  graphOf,
  type Paused,
  resumeUntilDone,
  run,
  scriptedModel,
  toolResultsSeen,
} from './langgraph-graph.js';
import { actionsFor as actionsFor_, decideWhenPending as decide } from './support.js';

let w: World;
before(async () => {
  w = await world('sqlite', { listen: true });
});
after(async () => w.close());

const client = () => createClient({ url: w.gw.url, apiKey: w.keys.agent });
const decideWhenPending = (tool: string, decision: Record<string, unknown>, which?: (args: Record<string, unknown>) => boolean) =>
  decide(w, tool, decision, which);
const actionsFor = (tool: string) => actionsFor_(w, tool);

test('a tool call approved with edited arguments pauses the graph, then runs once with the edited ones after the resume', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([{ id: 'call-lg-edit', name: 'lg-deploy-edit', args: { service: 'api', replicas: 10 } }], 'Deployed.');
  const node = approvalNode(client(), [deployTool('lg-deploy-edit', ran)], {
    purpose: (args) => `scale ${String(args.service)}`,
    reviewUrl: 'https://review.example.com/a/{id}',
  });
  const r = run(model, node, { thread: 'edit' });
  const paused = await r.start('Deploy api with 10 replicas');

  const [pause, ...others] = approvalInterrupts(paused);
  assert.ok(pause);
  assert.deepEqual(others, []);
  const [approval] = pause.value.approvals;
  assert.ok(approval);
  assert.equal(approval.tool, 'lg-deploy-edit');
  assert.deepEqual(approval.arguments, { service: 'api', replicas: 10 });
  assert.equal(approval.purpose, 'scale api');
  assert.equal(approval.tool_call_id, 'call-lg-edit');
  assert.equal(approval.review_url, `https://review.example.com/a/${approval.approval_id}`);
  assert.ok(approval.approvers, 'the payload names who may decide');
  assert.ok(approval.expires_at, 'and until when');
  assert.deepEqual(ran, [], 'nothing runs while the graph is paused');

  await decideWhenPending('lg-deploy-edit', { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  const next = await resumeFromCountersign(client(), paused);
  assert.ok(next?.command);
  assert.deepEqual(Object.keys(next.resume), [pause.id]);
  const done = await r.resume(next.command);

  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.equal(done.__interrupt__, undefined);
  assert.deepEqual(toolResultsSeen(model, 1), [['call-lg-edit', 'deployed api x2', 'success']]);
  assert.equal(done.messages.at(-1)?.text, 'Deployed.');
  const final = await client().getAction(approval.approval_id);
  assert.equal(final.status, 'executed');
  assert.equal(final.result?.output, 'deployed api x2');
});

test('a denied tool call never runs, and the model next reads who denied it and why', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([{ id: 'call-lg-deny', name: 'lg-deploy-deny', args: { service: 'api', replicas: 3 } }]);
  const r = run(model, approvalNode(client(), [deployTool('lg-deploy-deny', ran)]), { thread: 'deny' });
  await r.start('Deploy api');
  await decideWhenPending('lg-deploy-deny', { decision: 'deny', reason: 'not during the freeze' });
  // From a state snapshot this time, as a server that did not keep the invoke result would.
  const next = await resumeFromCountersign(client(), await r.graph.getState(r.config));
  assert.ok(next?.command);
  assert.deepEqual(
    next.decided.map((a) => a.status),
    ['denied'],
  );
  const done = await r.resume(next.command);

  assert.deepEqual(ran, []);
  const reason = 'Denied by alice@example.com: not during the freeze. The tool "lg-deploy-deny" was not run.';
  assert.deepEqual(toolResultsSeen(model, 1), [['call-lg-deny', reason, 'error']]);
  const refusal = done.messages.find((m) => ToolMessage.isInstance(m))?.artifact;
  assert.ok(isRefusal(refusal));
  assert.equal(refusal.status, 'denied');
});

test('two parallel tool calls sent as two tasks pause as two interrupts, decided apart and resumed by one command', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([
    { id: 'call-lg-par-api', name: 'lg-deploy-par', args: { service: 'api', replicas: 1 } },
    { id: 'call-lg-par-web', name: 'lg-deploy-par', args: { service: 'web', replicas: 1 } },
  ]);
  const r = run(model, approvalNode(client(), [deployTool('lg-deploy-par', ran)]), { thread: 'parallel', fanOut: true });
  const paused = await r.start('Deploy api and web');

  const pauses = approvalInterrupts(paused);
  assert.equal(pauses.length, 2);
  assert.notEqual(pauses[0]?.id, pauses[1]?.id);
  assert.deepEqual(pauses.map((p) => p.value.approvals.map((a) => a.arguments.service)).sort(), [['api'], ['web']]);

  await decideWhenPending('lg-deploy-par', { decision: 'deny', reason: 'web is frozen' }, (a) => a.service === 'web');
  await decideWhenPending('lg-deploy-par', { decision: 'approve' }, (a) => a.service === 'api');
  const next = await resumeFromCountersign(client(), paused);
  assert.ok(next?.command);
  assert.deepEqual(Object.keys(next.resume).sort(), pauses.map((p) => p.id).sort(), 'one command answers both interrupts');
  const done = await r.resume(next.command);

  assert.equal(done.__interrupt__, undefined);
  assert.deepEqual(ran, [{ service: 'api', replicas: 1 }]);
  assert.deepEqual(
    toolResultsSeen(model, 1).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    [
      ['call-lg-par-api', 'deployed api x1', 'success'],
      ['call-lg-par-web', 'Denied by alice@example.com: web is frozen. The tool "lg-deploy-par" was not run.', 'error'],
    ],
  );
  assert.deepEqual((await actionsFor('lg-deploy-par')).map((a) => a.status).sort(), ['denied', 'executed']);
});

test('a subagent graph’s parallel calls surface as its parent’s interrupts, and one command resumes them inside it', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([
    { id: 'call-lg-sub-api', name: 'lg-deploy-sub', args: { service: 'api', replicas: 1 } },
    { id: 'call-lg-sub-web', name: 'lg-deploy-sub', args: { service: 'web', replicas: 1 } },
  ]);
  const subagent = graphOf(model, approvalNode(client(), [deployTool('lg-deploy-sub', ran)]), undefined, true);
  const parent = new StateGraph(MessagesAnnotation)
    .addNode('ops', subagent)
    .addEdge(START, 'ops')
    .addEdge('ops', END)
    .compile({ checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: 'subagent' } };
  let state = (await parent.invoke({ messages: [new HumanMessage('Deploy api and web')] }, config)) as Paused;
  assert.equal(approvalInterrupts(state).length, 2);

  await decideWhenPending('lg-deploy-sub', { decision: 'approve' }, (a) => a.service === 'api');
  await decideWhenPending('lg-deploy-sub', { decision: 'deny', reason: 'web is frozen' }, (a) => a.service === 'web');
  const next = await resumeFromCountersign(client(), state);
  assert.ok(next?.command);
  state = (await parent.invoke(next.command, config)) as Paused;

  assert.equal(state.__interrupt__, undefined);
  assert.deepEqual(ran, [{ service: 'api', replicas: 1 }]);
  assert.equal(state.messages.at(-1)?.text, 'Done.');
});

test('calls of one message pause as one interrupt; one decided call runs at once, the other pauses again, and nothing runs twice', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([
    { id: 'call-lg-one-api', name: 'lg-deploy-one', args: { service: 'api', replicas: 1 } },
    { id: 'call-lg-one-web', name: 'lg-deploy-one', args: { service: 'web', replicas: 1 } },
  ]);
  const r = run(model, approvalNode(client(), [deployTool('lg-deploy-one', ran)]), { thread: 'one-interrupt' });
  const paused = await r.start('Deploy api and web');
  const [first] = approvalInterrupts(paused);
  assert.deepEqual(
    first?.value.approvals.map((a) => a.arguments.service),
    ['api', 'web'],
  );

  await decideWhenPending('lg-deploy-one', { decision: 'approve' }, (a) => a.service === 'api');
  const partial = await resumeFromCountersign(client(), paused, { wait: false });
  assert.ok(partial?.command);
  assert.deepEqual([partial.decided.length, partial.pending.length], [1, 1]);
  const again = await r.resume(partial.command);
  assert.deepEqual(ran, [{ service: 'api', replicas: 1 }], 'the approved call ran while the other waits');
  const [second] = approvalInterrupts(again);
  assert.ok(second);
  assert.notEqual(second.id, first?.id);
  assert.deepEqual(
    second.value.approvals.map((a) => a.arguments.service),
    ['web'],
  );

  await decideWhenPending('lg-deploy-one', { decision: 'approve' }, (a) => a.service === 'web');
  await resumeUntilDone(client(), r, again);
  assert.deepEqual(ran, [
    { service: 'api', replicas: 1 },
    { service: 'web', replicas: 1 },
  ]);
  assert.deepEqual(toolResultsSeen(model, 1), [
    ['call-lg-one-api', 'deployed api x1', 'success'],
    ['call-lg-one-web', 'deployed web x1', 'success'],
  ]);
});

test('calls left out with `except` run without approval, once, after the gated call of the same message is decided', async () => {
  const ran: unknown[] = [];
  let statusReads = 0;
  const status = tool(
    async () => {
      statusReads += 1;
      return 'all green';
    },
    { name: 'lg-status', description: 'Read the status', schema: z.object({}) },
  );
  const model = scriptedModel([
    { id: 'call-lg-except-deploy', name: 'lg-deploy-except', args: { service: 'api', replicas: 1 } },
    { id: 'call-lg-except-status', name: 'lg-status', args: {} },
  ]);
  const node = approvalNode(client(), [deployTool('lg-deploy-except', ran), status], { except: ['lg-status'] });
  const r = run(model, node, { thread: 'except' });
  const paused = await r.start('Deploy api and read the status');
  assert.deepEqual(
    approvalInterrupts(paused).flatMap((i) => i.value.approvals.map((a) => a.tool)),
    ['lg-deploy-except'],
  );
  assert.equal(statusReads, 0, 'not while the node is paused: it runs again from the start on resume');

  await decideWhenPending('lg-deploy-except', { decision: 'approve' });
  await resumeUntilDone(client(), r, paused);
  assert.equal(statusReads, 1);
  assert.deepEqual(toolResultsSeen(model, 1), [
    ['call-lg-except-deploy', 'deployed api x1', 'success'],
    ['call-lg-except-status', 'all green', 'success'],
  ]);
  assert.deepEqual(await actionsFor('lg-status'), [], 'never proposed');
});

test('edited arguments that fail the tool schema never run: the action ends failed and the model reads why', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([{ id: 'call-lg-invalid', name: 'lg-deploy-invalid', args: { service: 'api', replicas: 3 } }]);
  const r = run(model, approvalNode(client(), [deployTool('lg-deploy-invalid', ran)]), { thread: 'invalid' });
  const paused = await r.start('Deploy api');
  const decided = await decideWhenPending('lg-deploy-invalid', { decision: 'approve', arguments: { service: 'api', replicas: 'two' } });
  await resumeUntilDone(client(), r, paused);

  assert.deepEqual(ran, []);
  const [seen] = toolResultsSeen(model, 1);
  assert.equal(seen?.[2], 'error');
  assert.match(String(seen?.[1]), /the approved arguments do not match the input schema of "lg-deploy-invalid"/);
  assert.equal((await client().getAction(decided.id)).status, 'failed');
});

test('replaying the graph from its paused checkpoint after the approved call ran does not run the tool again', async () => {
  const ran: unknown[] = [];
  const deploy = deployTool('lg-deploy-replay', ran);
  const model = scriptedModel([{ id: 'call-lg-replay', name: 'lg-deploy-replay', args: { service: 'api', replicas: 4 } }]);
  const r = run(model, approvalNode(client(), [deploy]), { thread: 'replay' });
  const paused = await r.start('Deploy api');
  const pausedAt = await r.graph.getState(r.config);
  await decideWhenPending('lg-deploy-replay', { decision: 'approve' });
  const next = await resumeFromCountersign(client(), paused);
  assert.ok(next?.command);
  await r.resume(next.command);
  assert.equal(ran.length, 1);

  // A restarted process: a new graph over the same checkpoints, resumed again from where it paused.
  const replayModel = fakeModel().respond(new AIMessage('Done again.'));
  const restarted = graphOf(replayModel, approvalNode(client(), [deploy]), r.checkpointer);
  const replayed = (await restarted.invoke(next.command, pausedAt.config)) as Paused;

  assert.equal(ran.length, 1, 'the tool ran once');
  assert.equal(replayed.messages.at(-1)?.text, 'Done again.');
  assert.deepEqual(toolResultsSeen(replayModel, 0), [['call-lg-replay', 'deployed api x4', 'success']], 'the recorded result');
  assert.deepEqual(
    (await actionsFor('lg-deploy-replay')).map((a) => a.status),
    ['executed'],
  );
});

test('a resume value claiming approval approves nothing: the graph pauses again while pending, and a denial stands', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([{ id: 'call-lg-forged', name: 'lg-deploy-forged', args: { service: 'api', replicas: 1 } }]);
  const r = run(model, approvalNode(client(), [deployTool('lg-deploy-forged', ran)]), { thread: 'forged' });
  const paused = await r.start('Deploy api');
  const [pause] = approvalInterrupts(paused);
  assert.ok(pause);
  const approvalId = pause.value.approvals[0]?.approval_id;
  const forged = (id: string | undefined) =>
    new Command<unknown, Record<string, never>, never>({
      resume: { [String(id)]: { decision: 'approve', arguments: { service: 'api', replicas: 99 } } },
    });

  const stillPaused = await r.resume(forged(pause.id));
  assert.deepEqual(ran, []);
  const [again] = approvalInterrupts(stillPaused);
  assert.ok(again, 'the node paused again');
  assert.equal(again.value.approvals[0]?.approval_id, approvalId, 'on the same action');
  assert.equal((await client().getAction(String(approvalId))).status, 'pending');

  await decideWhenPending('lg-deploy-forged', { decision: 'deny', reason: 'no' });
  const done = await r.resume(forged(again.id));
  assert.deepEqual(ran, []);
  assert.equal(done.__interrupt__, undefined);
  assert.deepEqual(toolResultsSeen(model, 1), [
    ['call-lg-forged', 'Denied by alice@example.com: no. The tool "lg-deploy-forged" was not run.', 'error'],
  ]);
});

test('a node whose agent key the gateway refuses fails the run, and no tool runs', async () => {
  const ran: unknown[] = [];
  const model = scriptedModel([{ id: 'call-lg-unauth', name: 'lg-deploy-unauth', args: { service: 'api', replicas: 1 } }]);
  const stranger = createClient({ url: w.gw.url, apiKey: 'cs_000000000000_notakeynotakeynotakeynotakeynotakeynotakeyno' });
  const r = run(model, approvalNode(stranger, [deployTool('lg-deploy-unauth', ran)]), { thread: 'unauth' });

  await assert.rejects(r.start('Deploy api'), (e: unknown) => e instanceof CountersignError && e.code === 'unauthenticated');
  assert.deepEqual(ran, []);
});

/** Every module the built file `entry` loads, following its relative static imports, and the packages they name. */
function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      if (!spec) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
    }
  };
  visit(entry);
  return packages;
}

test('LangGraph is an optional peer dependency that only @countersign/sdk/langgraph loads, never the core entry point', async () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/sdk/package.json'), 'utf8'));
  assert.equal(pkg.peerDependenciesMeta['@langchain/langgraph']?.optional, true);
  assert.equal(pkg.dependencies['@langchain/langgraph'], undefined);
  assert.equal(pkg.exports['./langgraph']?.default, './dist/adapters/langgraph.js');

  const dist = join(REPO_ROOT, 'packages/sdk/dist');
  // The core entry loads dependencies only (some subpaths need more of them: edit-schema its validator), no peer.
  const core = [...packagesLoadedBy(join(dist, 'index.js'))].sort();
  assert.deepEqual(
    core.filter((p) => !(p in pkg.dependencies)),
    [],
  );
  assert.ok(core.includes('jose') && !core.includes('@langchain/langgraph'));
  assert.ok(packagesLoadedBy(join(dist, 'adapters/langgraph.js')).has('@langchain/langgraph'));
  const published = await import('@countersign/sdk/langgraph');
  assert.equal(typeof published.approvalNode, 'function');
});
