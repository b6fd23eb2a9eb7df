import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { REPO_ROOT } from '../../countersign/test/helpers.js';

/** Runs a root npm script's command line the way `npm run` would (node_modules/.bin on PATH), without npm's overhead. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        COUNTERSIGN_URL: '',
        COUNTERSIGN_AGENT_KEY: '',
        PATH: `${REPO_ROOT}/node_modules/.bin:${process.env.PATH}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

const example = (...command: string[]) => run('tsx', ['examples/with-gateway.ts', ...command]);

test('the examples type-check (tsc --noEmit on examples/)', async () => {
  const r = await run('tsc', ['-p', 'examples']);
  assert.equal(r.code, 0, r.out);
});

test('example: the Vercel AI agent runs the edited deploy and reads the denial', async () => {
  const r = await example('tsx', 'examples/vercel-ai/agent.ts');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /deploy\(\{"service":"api","replicas":10\}\) -> "deployed api with 2 replicas"/);
  assert.match(r.out, /Denied by alice@example\.com: not during the freeze\. The tool \\"dropTable\\" was not run\./);
});

test('example: the OpenAI Agents run pauses, is restored from a string and resolved from Countersign decisions', async () => {
  const r = await example('tsx', 'examples/openai-agents/agent.ts');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /run paused: 2 tool calls await approval/);
  assert.match(r.out, /model reads deploy: \{"type":"text","text":"deployed api with 2 replicas"\}/);
  assert.match(r.out, /model reads drop_table: .*Denied by alice@example\.com: not during the freeze/);
});

test('example: the LangGraph graph pauses on two interrupts and one command from Countersign decisions resumes both', async () => {
  const r = await example('tsx', 'examples/langgraph/agent.ts');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /graph paused: 2 interrupts/);
  assert.match(r.out, /resuming 2 interrupts with one command/);
  assert.match(r.out, /model reads deploy: deployed api with 2 replicas\n/);
  assert.match(r.out, /model reads drop_table: Denied by alice@example\.com: not during the freeze\. The tool "drop_table" was not run\./);
});

test('example: the Claude Agent SDK runs the edited deploy once and the model reads the denial', async () => {
  const r = await example('tsx', 'examples/claude-agent-sdk/agent.ts');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /\[tool\] deploy ran with \{"service":"api","replicas":2\}\n/);
  assert.equal(r.out.match(/\[tool\] deploy ran/g)?.length, 1);
  assert.match(r.out, /model reads toolu_deploy: deployed api with 2 replicas\n/);
  assert.match(
    r.out,
    /model reads toolu_drop: Denied by alice@example\.com: not during the freeze\. The tool "mcp__ops__drop_table" was not run\./,
  );
});

test('example: the harness pauses on a subagent’s approval and resumes it next turn', async () => {
  const r = await example('tsx', 'examples/harness/run.ts');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /turn ended: tool\.approval_required deploy from ops > deployer/);
  assert.match(
    r.out,
    /turn\.completed: ops: done\. deployer: deployed api with 2 replicas \| Denied by alice@example\.com: migrations wait/,
  );
});

test('example: plain fetch', async () => {
  const r = await example('node', 'examples/fetch/agent.mjs');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /restart: restarted web\n/);
  assert.match(r.out, /delete_bucket: NOT RUN \(denied by alice@example\.com: backups first\)/);
});

test('example: Python with only the standard library', async () => {
  const r = await example('python3', 'examples/python/agent.py');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /deploy: deployed api x2\n/);
  assert.match(r.out, /drop_table: NOT RUN: denied by alice@example\.com: not during the freeze/);
});
