import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveToolApprovals, withApprovals } from '@countersign/sdk/ai-sdk';
import { generateText, jsonSchema, type ModelMessage, stepCountIs, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { actionsFor, agent, decideWhenPending, text, toolCalls, unique } from './support.ts';

type Deploy = { service: string; replicas: number };
const deploySchema = jsonSchema<Deploy>({
  type: 'object',
  properties: { service: { type: 'string' }, replicas: { type: 'number' } },
  required: ['service', 'replicas'],
  additionalProperties: false,
});

/** A deploy tool that records what it ran with, gated in ai's own approval flow under the policy name `name`. */
function deployTools(name: string, annotations?: { readOnlyHint: boolean }) {
  const ran: Deploy[] = [];
  const tools = withApprovals(
    agent(),
    {
      deploy: tool({
        description: 'Deploy a service',
        inputSchema: deploySchema,
        execute: async (args) => {
          ran.push(args);
          return `deployed ${args.service} with ${args.replicas} replicas`;
        },
      }),
    },
    { mode: 'approval-request', toolName: () => name, ...(annotations ? { annotations } : {}) },
  );
  return { ran, tools };
}

/** The tool results the model was shown in a call's prompt. */
function toolResultsIn(model: MockLanguageModelV4, call: number) {
  return (model.doGenerateCalls[call]?.prompt ?? []).flatMap((m) =>
    m.role === 'tool' ? m.content.filter((p) => p.type === 'tool-result') : [],
  );
}

test('ai 7: a held call stops generation with ai’s own approval request, and the approval with edited arguments runs the edited call once', async () => {
  const name = unique('v7-req-edit');
  const { ran, tools } = deployTools(name);
  const callId = unique('call');
  const model = new MockLanguageModelV4({
    doGenerate: [toolCalls({ id: callId, name: 'deploy', input: { service: 'api', replicas: 10 } }), text('Deployed with 2.')],
  });
  const messages: ModelMessage[] = [{ role: 'user', content: 'Deploy api with 10 replicas' }];
  const first = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
  const requests = first.content.filter((p) => p.type === 'tool-approval-request');
  assert.equal(requests.length, 1, 'generation stops on the approval request');
  assert.equal(ran.length, 0);
  const [pending] = await actionsFor(name);
  assert.equal(pending?.status, 'pending');

  const deciding = decideWhenPending(name, { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  const { message, resolutions } = await resolveToolApprovals(first, tools);
  await deciding;
  assert.deepEqual(
    resolutions.map((r) => [r.toolCallId, r.outcome]),
    [[callId, 'approved']],
  );
  assert.ok(message);
  messages.push(...first.response.messages, message);
  const second = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });

  assert.deepEqual(ran, [{ service: 'api', replicas: 2 }]);
  assert.deepEqual(
    toolResultsIn(model, 1).map((p) => p.output),
    [{ type: 'text', value: 'deployed api with 2 replicas' }],
  );
  assert.equal(second.text, 'Deployed with 2.');
  const [done] = await actionsFor(name);
  assert.equal(done?.status, 'executed');
});

test('ai 7: a denied approval request never runs the tool and the model’s next input holds who denied it and why', async () => {
  const name = unique('v7-req-deny');
  const { ran, tools } = deployTools(name);
  const model = new MockLanguageModelV4({
    doGenerate: [toolCalls({ id: unique('call'), name: 'deploy', input: { service: 'db', replicas: 1 } }), text('Not deployed.')],
  });
  const messages: ModelMessage[] = [{ role: 'user', content: 'Deploy db' }];
  const first = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
  const deciding = decideWhenPending(name, { decision: 'deny', reason: 'not during the freeze' });
  const { message, resolutions } = await resolveToolApprovals(first, tools);
  await deciding;
  assert.equal(resolutions[0]?.outcome, 'denied');
  assert.ok(message);
  messages.push(...first.response.messages, message);
  await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });

  assert.equal(ran.length, 0);
  assert.deepEqual(
    toolResultsIn(model, 1).map((p) => p.output),
    [{ type: 'execution-denied', reason: `Denied by alice@example.com: not during the freeze. The tool "${name}" was not run.` }],
  );
});

test('ai 7: three parallel calls in one step are answered independently: approved, edited, denied', async () => {
  const name = unique('v7-req-parallel');
  const { ran, tools } = deployTools(name);
  const ids = [unique('call'), unique('call'), unique('call')];
  const model = new MockLanguageModelV4({
    doGenerate: [
      toolCalls(
        { id: ids[0] as string, name: 'deploy', input: { service: 'web', replicas: 3 } },
        { id: ids[1] as string, name: 'deploy', input: { service: 'api', replicas: 10 } },
        { id: ids[2] as string, name: 'deploy', input: { service: 'db', replicas: 1 } },
      ),
      text('Done.'),
    ],
  });
  const messages: ModelMessage[] = [{ role: 'user', content: 'Deploy web, api and db' }];
  const first = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
  assert.equal(first.content.filter((p) => p.type === 'tool-approval-request').length, 3);

  // Decided out of order, while all three are awaited together.
  const resolving = resolveToolApprovals(first, tools);
  await decideWhenPending(name, { decision: 'deny', reason: 'db is frozen' }, (a) => a.service === 'db');
  await decideWhenPending(name, { decision: 'approve', arguments: { service: 'api', replicas: 2 } }, (a) => a.service === 'api');
  await decideWhenPending(name, { decision: 'approve' }, (a) => a.service === 'web');
  const { message, resolutions } = await resolving;
  assert.deepEqual(
    resolutions.map((r) => [r.toolCallId, r.outcome]),
    [
      [ids[0], 'approved'],
      [ids[1], 'approved'],
      [ids[2], 'denied'],
    ],
  );
  assert.ok(message);
  messages.push(...first.response.messages, message);
  await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });

  assert.deepEqual(
    [...ran].sort((a, b) => a.service.localeCompare(b.service)),
    [
      { service: 'api', replicas: 2 },
      { service: 'web', replicas: 3 },
    ],
  );
  const shown = new Map(toolResultsIn(model, 1).map((p) => [p.toolCallId, p.output]));
  assert.deepEqual(shown.get(ids[0] as string), { type: 'text', value: 'deployed web with 3 replicas' });
  assert.deepEqual(shown.get(ids[1] as string), { type: 'text', value: 'deployed api with 2 replicas' });
  assert.deepEqual(shown.get(ids[2] as string), {
    type: 'execution-denied',
    reason: `Denied by alice@example.com: db is frozen. The tool "${name}" was not run.`,
  });
});

test('ai 7: a call the policy allows at once never stops generation and runs once', async () => {
  const name = unique('v7-req-allowed');
  // The gateway's built-in rule passes read-only hints of the agents it trusts (the runner's demo agent).
  const { ran, tools } = deployTools(name, { readOnlyHint: true });
  const model = new MockLanguageModelV4({
    doGenerate: [toolCalls({ id: unique('call'), name: 'deploy', input: { service: 'api', replicas: 1 } }), text('Done.')],
  });
  const result = await generateText({ model, tools, prompt: 'Deploy api', stopWhen: stepCountIs(3) });

  assert.equal(result.content.filter((p) => p.type === 'tool-approval-request').length, 0);
  assert.deepEqual(ran, [{ service: 'api', replicas: 1 }]);
  assert.equal(result.text, 'Done.');
  const [action] = await actionsFor(name);
  assert.equal(action?.status, 'executed');
  const { message } = await resolveToolApprovals(result, tools);
  assert.equal(message, null, 'nothing to answer');
});

test('ai 7: after a restart, the stored messages are answered by a new process on the same action, and the call runs once', async () => {
  const name = unique('v7-req-restart');
  const before = deployTools(name);
  const model = new MockLanguageModelV4({
    doGenerate: [toolCalls({ id: unique('call'), name: 'deploy', input: { service: 'api', replicas: 4 } }), text('Deployed.')],
  });
  const messages: ModelMessage[] = [{ role: 'user', content: 'Deploy api' }];
  const first = await generateText({ model, tools: before.tools, messages, stopWhen: stepCountIs(3) });
  // The process ends here; what survives is the conversation, as stored JSON.
  const stored = JSON.parse(JSON.stringify([...messages, ...first.response.messages])) as ModelMessage[];

  const after = deployTools(name); // a new process: new client, new tools
  const deciding = decideWhenPending(name, { decision: 'approve' });
  const { message, resolutions } = await resolveToolApprovals(stored, after.tools);
  await deciding;
  assert.deepEqual(
    resolutions.map((r) => r.outcome),
    ['approved'],
  );
  assert.ok(message);
  await generateText({ model, tools: after.tools, messages: [...stored, message], stopWhen: stepCountIs(3) });

  assert.deepEqual(after.ran, [{ service: 'api', replicas: 4 }]);
  assert.equal(before.ran.length, 0);
  assert.deepEqual(
    (await actionsFor(name)).map((a) => a.status),
    ['executed'],
    'one action: the new process re-attached to it',
  );
  const again = await resolveToolApprovals([...stored, message], after.tools);
  assert.equal(again.message, null, 'a request already answered in the messages is not answered twice');
});
