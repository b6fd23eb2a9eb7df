/*
 * The Claude Agent SDK adapter against the SDK's real runtime: query() spawns the bundled Claude Code, which
 * talks to a local scripted Messages API (streamed, like the real one) and runs in-process MCP tools that
 * record their calls. What the runtime does with Countersign's decisions is asserted on those calls and on
 * the requests the "model" receives next.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSdkMcpServer, type Options, query, type SDKMessage, tool } from '@anthropic-ai/claude-agent-sdk';
import { z } from 'zod';
import {
  type MessagesRequest,
  offlineEnv,
  type ScriptedBlock,
  type ScriptedReply,
  startScriptedMessagesApi,
  type ToolResult,
  toolResults,
} from '../../../examples/claude-agent-sdk/scripted-messages-api.js';
import { call, type World, world } from '../../countersign/test/helpers.js';
import { claudeApprovals, countersignCanUseTool, countersignPreToolUse } from '../src/adapters/claude-agent-sdk.js';
import { createClient } from '../src/index.js';
import { actionsFor, decideWhenPending } from './support.js';

let w: World;
const homes: string[] = [];
before(async () => {
  w = await world('sqlite', { listen: true });
});
after(async () => {
  await w.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

const client = () => createClient({ url: w.gw.url, apiKey: w.keys.agent });

/** An in-process MCP server `ops` with one tool per name, each recording the input it ran with. */
function opsServer(names: string[], ran: { tool: string; input: Record<string, unknown> }[]) {
  return createSdkMcpServer({
    name: 'ops',
    tools: names.map((name) =>
      tool(name, `Change a service (${name})`, { service: z.string(), replicas: z.number() }, async (input) => {
        ran.push({ tool: name, input });
        return { content: [{ type: 'text', text: `${name}: ${input.service} x${input.replicas}` }] };
      }),
    ),
  });
}

interface Run {
  messages: SDKMessage[];
  requests: MessagesRequest[];
  /** The tool results the model was sent after its tool calls. */
  results: ToolResult[];
}

/**
 * One agent run: the model calls `calls` in one assistant message, then answers in text once it has the
 * results. `options` adds the Countersign side (canUseTool, hooks) and anything else.
 */
async function runAgent(
  server: ReturnType<typeof opsServer>,
  calls: ScriptedBlock[] | ((request: MessagesRequest) => ScriptedReply),
  options: Options,
): Promise<Run> {
  const reply =
    typeof calls === 'function'
      ? calls
      : (request: MessagesRequest): ScriptedReply =>
          toolResults(request).length > 0 || !request.tools?.some((t) => t.name.startsWith('mcp__ops__'))
            ? { content: [{ type: 'text', text: 'done' }] }
            : { content: [{ type: 'text', text: 'on it' }, ...calls] };
  const api = await startScriptedMessagesApi(reply);
  const home = mkdtempSync(join(tmpdir(), 'cs-claude-agent-'));
  homes.push(home);
  const messages: SDKMessage[] = [];
  try {
    const run = query({
      prompt: 'change the services',
      options: {
        env: offlineEnv(api.url, home),
        cwd: home,
        tools: [],
        settingSources: [],
        mcpServers: { ops: server },
        model: 'claude-sonnet-4-5',
        maxTurns: 3,
        ...options,
      },
    });
    for await (const m of run) messages.push(m);
  } finally {
    await api.close();
  }
  return { messages, requests: api.requests, results: api.requests.flatMap((r) => toolResults(r)) };
}

const use = (id: string, name: string, input: Record<string, unknown>): ScriptedBlock => ({
  type: 'tool_use',
  id,
  name: `mcp__ops__${name}`,
  input,
});
const resultOf = (run: Run, id: string) => run.results.find((r) => r.tool_use_id === id);

test('canUseTool: an approval with edited input runs the tool once with the edited input, and the hooks record its output', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const approvals = claudeApprovals(client());
  const options = { canUseTool: approvals.canUseTool, hooks: approvals.hooks() };
  const decided = decideWhenPending(w, 'mcp__ops__cc_deploy', { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  const first = await runAgent(
    opsServer(['cc_deploy'], ran),
    [use('toolu_cc_edit', 'cc_deploy', { service: 'api', replicas: 10 })],
    options,
  );
  await decided;
  assert.deepEqual(ran, [{ tool: 'cc_deploy', input: { service: 'api', replicas: 2 } }]);
  assert.equal(resultOf(first, 'toolu_cc_edit')?.text, 'cc_deploy: api x2');
  assert.equal(resultOf(first, 'toolu_cc_edit')?.is_error, false);
  const [action] = await actionsFor(w, 'mcp__ops__cc_deploy');
  assert.equal(action?.status, 'executed', 'the PostToolUse hook reported the run');
  assert.deepEqual(action?.arguments, { service: 'api', replicas: 2 });

  // The same tool use again (a restarted agent replaying its transcript): it re-attaches and does not run.
  const again = await runAgent(
    opsServer(['cc_deploy'], ran),
    [use('toolu_cc_edit', 'cc_deploy', { service: 'api', replicas: 10 })],
    options,
  );
  assert.equal(ran.length, 1);
  assert.match(resultOf(again, 'toolu_cc_edit')?.text ?? '', /already ran for action .* \(executed\).*cc_deploy: api x2.*Not run again/);
  assert.equal((await actionsFor(w, 'mcp__ops__cc_deploy')).length, 1, 'one action for the one tool use');
});

test('canUseTool: a denial never runs the tool, and the model reads who refused it and why in the tool result', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const decided = decideWhenPending(w, 'mcp__ops__cc_drop', { decision: 'deny', reason: 'not during the freeze' });
  const run = await runAgent(opsServer(['cc_drop'], ran), [use('toolu_cc_deny', 'cc_drop', { service: 'db', replicas: 0 })], {
    canUseTool: countersignCanUseTool(client()),
  });
  await decided;
  assert.deepEqual(ran, []);
  const result = resultOf(run, 'toolu_cc_deny');
  assert.equal(result?.is_error, true);
  assert.match(result?.text ?? '', /Denied by alice@example\.com: not during the freeze\. The tool "mcp__ops__cc_drop" was not run\./);
});

test('canUseTool: a restarted agent re-attaches by tool-use id and refuses an approval already redeemed, so it never runs twice', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  // No reporting hooks: the first process "dies" after running, leaving the action approved and redeemed.
  const decided = decideWhenPending(w, 'mcp__ops__cc_restart', { decision: 'approve' });
  const calls = [use('toolu_cc_restart', 'cc_restart', { service: 'web', replicas: 1 })];
  await runAgent(opsServer(['cc_restart'], ran), calls, { canUseTool: countersignCanUseTool(client()) });
  await decided;
  assert.equal(ran.length, 1);
  const restarted = await runAgent(opsServer(['cc_restart'], ran), calls, { canUseTool: countersignCanUseTool(client()) });
  assert.equal(ran.length, 1, 'not run a second time');
  assert.match(
    resultOf(restarted, 'toolu_cc_restart')?.text ?? '',
    /was already started once and may have run; the tool .* was not run again/,
  );
  const actions = await actionsFor(w, 'mcp__ops__cc_restart');
  assert.equal(actions.length, 1);
  assert.ok(actions[0]?.redeemed_at);
});

test('canUseTool: parallel tool calls in one assistant message are decided independently', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const decided = Promise.all(
    ['api', 'db'].map((s) =>
      decideWhenPending(
        w,
        'mcp__ops__cc_par',
        s === 'api' ? { decision: 'approve' } : { decision: 'deny', reason: `no ${s}` },
        (a) => a.service === s,
      ),
    ),
  );
  const run = await runAgent(
    opsServer(['cc_par'], ran),
    [use('toolu_cc_par_api', 'cc_par', { service: 'api', replicas: 3 }), use('toolu_cc_par_db', 'cc_par', { service: 'db', replicas: 3 })],
    { canUseTool: countersignCanUseTool(client()) },
  );
  await decided;
  assert.deepEqual(ran, [{ tool: 'cc_par', input: { service: 'api', replicas: 3 } }]);
  assert.equal(resultOf(run, 'toolu_cc_par_api')?.text, 'cc_par: api x3');
  assert.match(resultOf(run, 'toolu_cc_par_db')?.text ?? '', /Denied by alice@example\.com: no db\./);
});

test('canUseTool: a call still pending when the wait times out is denied with its approval id and not run', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const run = await runAgent(opsServer(['cc_slow'], ran), [use('toolu_cc_slow', 'cc_slow', { service: 'api', replicas: 1 })], {
    canUseTool: countersignCanUseTool(client(), { timeout: 50 }),
  });
  assert.deepEqual(ran, []);
  const [action] = await actionsFor(w, 'mcp__ops__cc_slow');
  assert.equal(action?.status, 'pending');
  assert.equal(resultOf(run, 'toolu_cc_slow')?.text, `Still pending approval ${action?.id}; the tool "mcp__ops__cc_slow" was not run.`);
});

test('canUseTool: tools outside the guarded list are allowed unchanged without a proposal; resource and purpose reach the action', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const decided = decideWhenPending(w, 'cc_scale', { decision: 'approve' });
  const run = await runAgent(
    opsServer(['cc_scale', 'cc_status'], ran),
    [
      use('toolu_cc_scale', 'cc_scale', { service: 'api', replicas: 4 }),
      use('toolu_cc_status', 'cc_status', { service: 'api', replicas: 0 }),
    ],
    {
      canUseTool: countersignCanUseTool(client(), {
        tools: ['mcp__ops__cc_scale'],
        toolName: (name) => name.replace(/^mcp__ops__/, ''),
        resource: (_name, input) => `service:${String(input.service)}`,
        purpose: 'scale for the launch',
      }),
    },
  );
  const action = await decided;
  assert.equal(action.resource, 'service:api');
  assert.equal(action.purpose, 'scale for the launch');
  assert.deepEqual(ran.map((r) => r.tool).sort(), ['cc_scale', 'cc_status']);
  assert.equal(resultOf(run, 'toolu_cc_status')?.text, 'cc_status: api x0');
  assert.deepEqual(await actionsFor(w, 'mcp__ops__cc_status'), []);
  assert.deepEqual(await actionsFor(w, 'cc_status'), []);
});

test('canUseTool: otherTools answers the calls outside the guarded list, without a proposal', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const run = await runAgent(opsServer(['cc_other'], ran), [use('toolu_cc_other', 'cc_other', { service: 'api', replicas: 1 })], {
    canUseTool: countersignCanUseTool(client(), {
      tools: ['Bash'],
      otherTools: async (name) => ({ behavior: 'deny', message: `${name} is not on this agent's list` }),
    }),
  });
  assert.deepEqual(ran, []);
  assert.equal(resultOf(run, 'toolu_cc_other')?.text, "mcp__ops__cc_other is not on this agent's list");
  assert.deepEqual(await actionsFor(w, 'mcp__ops__cc_other'), []);
});

test('a subagent’s tool calls are decided the same way: the delegated call runs once with the reviewer’s edit', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  let delegated = false;
  const decided = decideWhenPending(w, 'mcp__ops__cc_sub', { decision: 'approve', arguments: { service: 'api', replicas: 1 } });
  const run = await runAgent(
    opsServer(['cc_sub'], ran),
    (request) => {
      // The main thread has the Agent tool and delegates once; the subagent has only the ops tool.
      if (request.tools?.some((t) => t.name === 'Agent')) {
        if (delegated) return { content: [{ type: 'text', text: 'delegated' }] };
        delegated = true;
        const input = { description: 'deploy', prompt: 'deploy api', subagent_type: 'deployer' };
        return { content: [{ type: 'tool_use', id: 'toolu_cc_agent', name: 'Agent', input }] };
      }
      if (toolResults(request).length > 0) return { content: [{ type: 'text', text: 'deployed' }] };
      return { content: [use('toolu_cc_sub', 'cc_sub', { service: 'api', replicas: 3 })] };
    },
    {
      canUseTool: countersignCanUseTool(client(), { tools: (name) => name.startsWith('mcp__ops__') }),
      tools: ['Agent'],
      agents: { deployer: { description: 'Deploys services', prompt: 'You deploy.', tools: ['mcp__ops__cc_sub'] } },
    },
  );
  await decided;
  assert.deepEqual(ran, [{ tool: 'cc_sub', input: { service: 'api', replicas: 1 } }]);
  assert.equal(resultOf(run, 'toolu_cc_sub')?.text, 'cc_sub: api x1');
  assert.ok(
    run.messages.some((m) => m.type === 'user' && m.parent_tool_use_id === 'toolu_cc_agent'),
    'the tool ran inside the subagent',
  );
  assert.equal((await actionsFor(w, 'mcp__ops__cc_sub')).length, 1);
});

test('PreToolUse hook: gates even a tool the SDK allows by itself, runs the edited input, and passes a denial to the model', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const approvals = claudeApprovals(client());
  const decided = Promise.all([
    decideWhenPending(w, 'mcp__ops__cc_hook_deploy', { decision: 'approve', arguments: { service: 'api', replicas: 5 } }),
    decideWhenPending(w, 'mcp__ops__cc_hook_drop', { decision: 'deny', reason: 'backups first' }),
  ]);
  const run = await runAgent(
    opsServer(['cc_hook_deploy', 'cc_hook_drop'], ran),
    [
      use('toolu_cc_hook_deploy', 'cc_hook_deploy', { service: 'api', replicas: 50 }),
      use('toolu_cc_hook_drop', 'cc_hook_drop', { service: 'db', replicas: 0 }),
    ],
    // allowedTools: without the hook the SDK would run both at once, asking nobody.
    { hooks: approvals.hooks({ gate: true }), allowedTools: ['mcp__ops__cc_hook_deploy', 'mcp__ops__cc_hook_drop'] },
  );
  await decided;
  assert.deepEqual(ran, [{ tool: 'cc_hook_deploy', input: { service: 'api', replicas: 5 } }]);
  assert.equal(resultOf(run, 'toolu_cc_hook_deploy')?.text, 'cc_hook_deploy: api x5');
  assert.match(resultOf(run, 'toolu_cc_hook_drop')?.text ?? '', /Denied by alice@example\.com: backups first\./);
  assert.equal((await actionsFor(w, 'mcp__ops__cc_hook_deploy'))[0]?.status, 'executed');
});

test('PreToolUse hook: the bare callback in a matcher answers the SDK’s hook output schema', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const decided = decideWhenPending(w, 'mcp__ops__cc_bare', { decision: 'approve', arguments: { service: 'web', replicas: 1 } });
  await runAgent(opsServer(['cc_bare'], ran), [use('toolu_cc_bare', 'cc_bare', { service: 'web', replicas: 9 })], {
    hooks: { PreToolUse: [{ matcher: 'mcp__ops__cc_bare', hooks: [countersignPreToolUse(client())], timeout: 600, onFailure: 'block' }] },
    allowedTools: ['mcp__ops__cc_bare'],
  });
  await decided;
  assert.deepEqual(ran, [{ tool: 'cc_bare', input: { service: 'web', replicas: 1 } }]);
});

test('an agent key the gateway refuses gets every guarded call denied, never run', async () => {
  const ran: { tool: string; input: Record<string, unknown> }[] = [];
  const revoked = createClient({ url: w.gw.url, apiKey: 'cs_000000000000_notakeynotakeynotakeynotakeynotakeynotakey12' });
  const run = await runAgent(opsServer(['cc_unauth'], ran), [use('toolu_cc_unauth', 'cc_unauth', { service: 'api', replicas: 1 })], {
    canUseTool: countersignCanUseTool(revoked),
  });
  assert.deepEqual(ran, []);
  assert.match(
    resultOf(run, 'toolu_cc_unauth')?.text ?? '',
    /Countersign could not decide: .*The tool "mcp__ops__cc_unauth" was not run\./,
  );
  assert.equal((await call(w, 'GET', '/v1/actions?tool=mcp__ops__cc_unauth', w.keys.alice)).body.items.length, 0);
});
