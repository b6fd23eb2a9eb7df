import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Runs one of adapters-node22/examples on this Node, against the gateway these tests share (its URL and keys are in the env). */
function runExample(name: string): Promise<{ code: number | null; out: string }> {
  const file = fileURLToPath(new URL(`../examples/${name}.ts`, import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
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

test('example: the ai 7 agent stops on two approval requests, runs the edited deploy and reads the denial', async () => {
  const r = await runExample('vercel-ai-v7');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /generation stopped on 2 approval requests: deploy approved, dropTable denied/);
  assert.match(r.out, /model reads deploy: \{"type":"text","value":"deployed api with 2 replicas"\}/);
  assert.match(
    r.out,
    /model reads dropTable: .*Denied by alice@example\.com: not during the freeze\. The tool \\"dropTable\\" was not run\./,
  );
});

test('example: the Mastra agent’s approval stops are answered from Countersign: the edited deploy runs, the drop is declined', async () => {
  const r = await runExample('mastra');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /run stopped: suspended on deploy/);
  assert.match(r.out, /deploy\(\{"service":"api","replicas":10\}\) -> "deployed api with 2 replicas"/);
  assert.match(r.out, /dropTable: declined \(Denied by alice@example\.com: not during the freeze\. The tool "dropTable" was not run\.\)/);
});
