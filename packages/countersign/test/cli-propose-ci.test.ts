/*
 * The GitHub Actions job in docs/ci.md, run as GitHub would run it: the workflow YAML is read from the
 * doc, each `run:` step goes to bash -e with the step's env (its ${{ }} expressions filled in by this
 * test), in order, stopping at the first failure; so the doc cannot drift from what works.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { childEnv, POLICY, type Running, start, waitingId } from './cli-propose-helpers.js';
import { CLI_MAIN, call, forEachDialect, REPO_ROOT, review, type World, withPolicy, world } from './helpers.js';

forEachDialect('the GitHub Actions job in docs/ci.md', (dialect) => {
  let w: World;
  const job = deployJob();
  let dir: string;
  before(async () => {
    w = await world(dialect, { listen: true, config: withPolicy(POLICY) });
    dir = mkdtempSync(join(tmpdir(), 'cs-ci-'));
    // The "Install the Countersign CLI" step, done the local way: `countersign` on the PATH is the built CLI.
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'countersign'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_MAIN}" "$@"\n`);
    chmodSync(join(dir, 'bin', 'countersign'), 0o755);
  });
  after(async () => {
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const action = async (id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.alice)).body;

  /** A checkout whose scripts/deploy.sh records each deploy, and the job's environment. */
  function runner(runId: string, version: string) {
    const work = mkdtempSync(join(dir, 'work-'));
    mkdirSync(join(work, 'scripts'));
    mkdirSync(join(work, 'tmp'));
    writeFileSync(join(work, 'scripts', 'deploy.sh'), `#!/bin/sh\necho "$1 $2" >> "${join(work, 'deploys.log')}"\n`);
    chmodSync(join(work, 'scripts', 'deploy.sh'), 0o755);
    const expressions: Record<string, string> = {
      'vars.COUNTERSIGN_URL': w.gw.url,
      'secrets.COUNTERSIGN_AGENT_KEY': w.keys.agent,
      'inputs.version': version,
    };
    const base = {
      ...childEnv({}),
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      GITHUB_RUN_ID: runId,
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_ACTOR: 'octocat',
      RUNNER_TEMP: join(work, 'tmp'),
    };
    return {
      deploys: () => (existsSync(join(work, 'deploys.log')) ? readFileSync(join(work, 'deploys.log'), 'utf8') : ''),
      /** Runs the job's `run:` steps in order, as GitHub does (bash -e), stopping at the first that fails. */
      async steps(onStart?: (step: string, run: Running) => Promise<void>) {
        const jobEnv = evaluate(job.env, expressions);
        let log = '';
        for (const step of job.steps) {
          if (step.run === undefined || step.name === 'Install the Countersign CLI') continue;
          const env = { ...base, ...jobEnv, ...evaluate(step.env ?? {}, expressions) };
          const run = start(['bash', '-e', '-c', substitute(step.run, expressions)], env, '', { cwd: work });
          if (onStart) await onStart(step.name ?? '', run);
          const r = await run.done;
          log += r.stdout + r.stderr;
          if (r.code !== 0) return { failedAt: step.name, code: r.code, log };
        }
        return { failedAt: undefined, code: 0, log };
      },
    };
  }

  test('an approved, edited version is deployed once and reported; the step run again exits 14 without deploying', async () => {
    const ci = runner('9001', '1.4.2');
    let id = '';
    const job1 = await ci.steps(async (step, run) => {
      if (!step.startsWith('Ask a person')) return;
      id = await waitingId(run);
      const r = await review(w, id, w.keys.alice, { decision: 'approve', arguments: { env: 'production', version: '1.4.3' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    });
    assert.equal(job1.code, 0, job1.log);
    assert.equal(ci.deploys(), 'production 1.4.3\n', 'the edited version, once');
    const a = await action(id);
    assert.equal(a.status, 'executed', 'the last step reported the result');
    assert.equal(a.purpose, 'deploy 1.4.2 to production (workflow run 9001, started by octocat)');
    assert.equal(a.session_id, 'github-run-9001');

    const job2 = await ci.steps();
    assert.equal(job2.failedAt, 'Ask a person to approve the deploy');
    assert.equal(job2.code, 14, job2.log);
    assert.equal(ci.deploys(), 'production 1.4.3\n', 'not deployed a second time');
  });

  test("a denial fails the job with the reviewer's reason in the log (on one line), and nothing is deployed", async () => {
    const ci = runner('9002', '1.5.0');
    const job1 = await ci.steps(async (step, run) => {
      if (!step.startsWith('Ask a person')) return;
      const id = await waitingId(run);
      assert.equal(
        (await review(w, id, w.keys.alice, { decision: 'deny', reason: 'not during the freeze\n::warning::a line of its own' })).status,
        200,
      );
    });
    assert.equal(job1.failedAt, 'Ask a person to approve the deploy');
    assert.equal(job1.code, 10);
    assert.match(job1.log, /Denied by alice@example\.com: not during the freeze/);
    assert.match(job1.log, /::error title=Deploy not approved::denied: not during the freeze ::warning::a line of its own \(exit 10\)/);
    assert.doesNotMatch(job1.log, /^::warning/m, "the reviewer's text cannot start a workflow command of its own");
    assert.equal(ci.deploys(), '');
  });
});

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

/** The `deploy` job of the workflow YAML in docs/ci.md, as GitHub would read it. */
function deployJob(): { env: Record<string, string>; steps: Step[] } {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'ci.md'), 'utf8');
  const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((y) => y.includes('jobs:'));
  assert.ok(block, 'docs/ci.md has a workflow YAML block');
  return (parseYaml(block) as { jobs: { deploy: { env: Record<string, string>; steps: Step[] } } }).jobs.deploy;
}

/** `${{ expr }}` replaced from `values`; an expression the test does not know fails it, so the doc cannot grow one unnoticed. */
function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expr: string) => {
    const v = values[expr];
    assert.ok(v !== undefined, `docs/ci.md uses \${{ ${expr} }}, which this test does not provide`);
    return v;
  });
}

function evaluate(env: Record<string, string>, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, substitute(String(v), values)]));
}
