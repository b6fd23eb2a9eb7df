/**
 * A Claude Agent SDK agent whose tools wait for a person through Countersign. The SDK's real runtime runs,
 * but its model is a local scripted Messages API (scripted-messages-api.ts), so no API key or network is
 * needed: in one message the model asks to deploy with 10 replicas and to drop a table; a reviewer edits the
 * deploy to 2 replicas and approves it, and denies the drop. The deploy runs once with 2; the model reads
 * who denied the drop and why.
 *
 *   npm run example:claude-agent-sdk
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSdkMcpServer, query, tool } from '@anthropic-ai/claude-agent-sdk';
import { createClient } from '@countersign/sdk';
import { claudeApprovals } from '@countersign/sdk/claude-agent-sdk';
import { z } from 'zod';
import { playReviewer } from '../reviewer.js';
import { offlineEnv, startScriptedMessagesApi, toolResults } from './scripted-messages-api.js';

const cs = createClient({ url: process.env.COUNTERSIGN_URL as string, apiKey: process.env.COUNTERSIGN_AGENT_KEY as string });

// The agent's tools, as they were before Countersign: an in-process MCP server.
const ops = createSdkMcpServer({
  name: 'ops',
  tools: [
    tool('deploy', 'Deploy a service', { service: z.string(), replicas: z.number() }, async ({ service, replicas }) => {
      console.log(`[tool] deploy ran with ${JSON.stringify({ service, replicas })}`);
      return { content: [{ type: 'text', text: `deployed ${service} with ${replicas} replicas` }] };
    }),
    tool('drop_table', 'Drop a database table', { table: z.string() }, async ({ table }) => {
      process.exitCode = 1; // never reached: the reviewer denies it
      return { content: [{ type: 'text', text: `dropped ${table}` }] };
    }),
  ],
});

// The scripted model: both calls in one message (fresh ids per run), then a summary of what it read back.
const run = Date.now();
const model = await startScriptedMessagesApi((request) => {
  const results = toolResults(request);
  if (results.length > 0) {
    for (const r of results) console.log(`model reads ${r.tool_use_id.replace(/_\d+$/, '')}: ${r.text}`);
    return { content: [{ type: 'text', text: 'Deployed api; dropping users was refused.' }] };
  }
  if (!request.tools?.some((t) => t.name === 'mcp__ops__deploy')) return { content: [{ type: 'text', text: 'ok' }] };
  return {
    content: [
      { type: 'tool_use', id: `toolu_deploy_${run}`, name: 'mcp__ops__deploy', input: { service: 'api', replicas: 10 } },
      { type: 'tool_use', id: `toolu_drop_${run}`, name: 'mcp__ops__drop_table', input: { table: 'users' } },
    ],
  };
});

const reviewing = playReviewer([
  { tool: 'mcp__ops__deploy', decision: { decision: 'approve', arguments: { service: 'api', replicas: 2 } } },
  { tool: 'mcp__ops__drop_table', decision: { decision: 'deny', reason: 'not during the freeze' } },
]);

// The one change for Countersign: its permission callback (and the hooks that report each run's result).
const approvals = claudeApprovals(cs);

const home = mkdtempSync(join(tmpdir(), 'countersign-claude-example-'));
try {
  const messages = query({
    prompt: 'Deploy api with 10 replicas and drop the users table.',
    options: {
      canUseTool: approvals.canUseTool,
      hooks: approvals.hooks(),
      mcpServers: { ops },
      tools: [],
      settingSources: [],
      model: 'claude-sonnet-4-5',
      maxTurns: 3,
      cwd: home,
      env: offlineEnv(model.url, home),
    },
  });
  for await (const m of messages) if (m.type === 'result') console.log(`result: ${m.subtype}`);
  await reviewing;
} finally {
  await model.close();
  rmSync(home, { recursive: true, force: true });
}
