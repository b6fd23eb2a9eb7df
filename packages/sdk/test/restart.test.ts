import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { call, REPO_ROOT, review, type World, world } from '../../countersign/test/helpers.js';

const AGENT = join(REPO_ROOT, 'packages/sdk/test/fixtures/agent-process.ts');
let w: World;
let dir: string;
before(async () => {
  w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
  dir = mkdtempSync(join(tmpdir(), 'cs-restart-'));
});
after(async () => {
  await w.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Agent {
  child: ChildProcess;
  done: Promise<{ code: number | null; out: Record<string, unknown> | undefined }>;
}

/** Starts the agent as its own OS process, as a crashed-and-restarted agent would be. */
function startAgent(tool: string, log: string, extra: Record<string, string> = {}): Agent {
  const child = spawn(process.execPath, ['--import', 'tsx', AGENT], {
    env: {
      ...process.env,
      COUNTERSIGN_URL: w.gw.url,
      COUNTERSIGN_AGENT_KEY: w.keys.agent,
      TOOL: tool,
      TOOL_CALL_ID: 'call_restart_1',
      RUN_LOG: log,
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const done = new Promise<{ code: number | null; out: Record<string, unknown> | undefined }>((resolve) =>
    child.on('exit', (code) => resolve({ code, out: stdout.trim() ? JSON.parse(stdout.trim().split('\n').at(-1) as string) : undefined })),
  );
  return { child, done };
}

async function pendingFor(tool: string): Promise<{ id: string }[]> {
  return (await call(w, 'GET', `/v1/actions?tool=${tool}`, w.keys.alice)).body.items;
}

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const runs = (log: string) => {
  try {
    return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

test('an agent killed while waiting re-attaches to the same action after a restart and runs it once, with the approved arguments', async () => {
  const tool = 'restart-deploy';
  const log = join(dir, 'wait.log');
  writeFileSync(log, '');
  const first = startAgent(tool, log);
  const [action] = await until('the proposal', async () => ((await pendingFor(tool)).length === 1 ? pendingFor(tool) : undefined));
  assert.ok(action);
  first.child.kill('SIGKILL');
  await first.done;

  await review(w, action.id, w.keys.alice, { decision: 'approve', arguments: { service: 'api', replicas: 2 } });
  const second = await startAgent(tool, log).done;
  assert.equal(second.code, 0);
  assert.deepEqual(second.out, { result: 'deployed api x2' });
  assert.deepEqual(runs(log), ['{"service":"api","replicas":2}']);
  assert.equal((await pendingFor(tool)).length, 1, 'the restarted agent created no second action');

  // Yet another restart finds it executed: the recorded output comes back and nothing runs again.
  const third = await startAgent(tool, log).done;
  assert.deepEqual(third.out, { result: 'deployed api x2' });
  assert.equal(runs(log).length, 1);
  const final = (await call(w, 'GET', `/v1/actions/${action.id}`, w.keys.alice)).body;
  assert.equal(final.status, 'executed');
});

test('an agent killed while its tool was running is never run again by the restarted agent', async () => {
  const tool = 'restart-midrun';
  const log = join(dir, 'midrun.log');
  writeFileSync(log, '');
  const first = startAgent(tool, log, { HANG: '1' });
  const [action] = await until('the proposal', async () => ((await pendingFor(tool)).length === 1 ? pendingFor(tool) : undefined));
  assert.ok(action);
  await review(w, action.id, w.keys.alice, { decision: 'approve' });
  await until('the tool to start', async () => (runs(log).length === 1 ? true : undefined));
  first.child.kill('SIGKILL');
  await first.done;

  const second = await startAgent(tool, log).done;
  assert.deepEqual(second.out, { error: 'receipt_used' }, 'it may already have run: refuse rather than risk twice');
  assert.equal(runs(log).length, 1);
});
