/*
 * `countersign propose`, run as a real child process (the built CLI) against a listening gateway, the
 * way a script or a CI job runs it; and the GitHub Actions job in docs/ci.md, run step by step with bash.
 *
 * Exit status (src/cli/exit-codes.ts, docs/ci.md): 0 approved, 10 denied, 11 expired, 12 cancelled,
 * 13 still pending, 14 approval already used (--redeem); errors keep their codes (2 invalid input,
 * 3 no key, 4 a person's key, 6 idempotency conflict).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { FakeClock } from '../src/lib/clock.js';
import { auditRows, CLI_MAIN, type CliResult, call, forEachDialect, REPO_ROOT, review, type World, withPolicy, world } from './helpers.js';

const POLICY = `
policy:
  default: review
  rules:
    - name: smoke-tests-pass
      when: tool == "smoke_test"
      effect: allow
    - name: no-drops
      when: tool == "drop_database"
      effect: deny
      reason: databases are never dropped from CI
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer] }
`;

/** The parent's environment without any COUNTERSIGN_* setting, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  return { ...env, ...extra };
}

interface Running {
  done: Promise<CliResult>;
  /** Resolves with the first match of `re` on stderr so far (the command's progress lines). */
  stderrMatch(re: RegExp): Promise<RegExpMatchArray>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts a child (`countersign ARGS` by default) with `input` on stdin, without waiting for it to end. */
function start(argv: string[], env: NodeJS.ProcessEnv, input = '', opts: { cwd?: string } = {}): Running {
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    for (const w of watchers.splice(0)) {
      const m = stderr.match(w.re);
      if (m) w.resolve(m);
      else watchers.push(w);
    }
  });
  child.stdin.end(input);
  const done = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return {
    done,
    kill: (signal) => void child.kill(signal),
    stderrMatch: (re) =>
      new Promise((resolve, reject) => {
        const m = stderr.match(re);
        if (m) return resolve(m);
        watchers.push({ re, resolve });
        void done.then((r) => reject(new Error(`the command ended (exit ${r.code}) before stderr matched ${re}\n${r.stderr}`)));
      }),
  };
}

/** Asserts the exit status, showing the output when it differs. */
function exits(r: CliResult, code: number): CliResult {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

// biome-ignore lint/suspicious/noExplicitAny: the command's JSON output; the assertions check its shape
const json = (r: CliResult): any => JSON.parse(r.stdout);

/** The pending action's id, from the progress line the command prints while it waits. */
const waitingId = async (run: Running) => (await run.stderrMatch(/countersign approve (\S+)"/))[1] as string;

forEachDialect('countersign propose', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { listen: true, config: withPolicy(POLICY) });
  });
  after(async () => {
    await w?.close();
  });
  const asAgent = (key = w.keys.agent) => childEnv({ COUNTERSIGN_URL: w.gw.url, COUNTERSIGN_AGENT_KEY: key });
  const propose = (args: string[], opts: { key?: string; input?: string } = {}) =>
    start([process.execPath, CLI_MAIN, 'propose', ...args], asAgent(opts.key), opts.input);
  const action = async (id: string) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.alice)).body;
  const countActions = async () =>
    (
      await w.gw.deps.db.read
        .selectFrom('actions')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n;

  test('a person approving with edited arguments while the command waits: exit 0, the edited arguments on stdout, the receipt redeemed once', async () => {
    const run = propose([
      '--tool',
      'deploy',
      '--args',
      '{"env":"production","version":"1.4.2"}',
      '--resource',
      'env:production',
      '--purpose',
      'release 1.4.2',
      '--wait',
      '--redeem',
      '--idempotency-key',
      'run-1-1-deploy',
    ]);
    const id = await waitingId(run);
    assert.equal((await action(id)).status, 'pending', 'the command is waiting on a pending action');
    const r = await review(w, id, w.keys.alice, {
      decision: 'approve',
      reason: 'ship the patch',
      arguments: { env: 'production', version: '1.4.3' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));

    const out = json(exits(await run.done, 0));
    assert.equal(out.outcome, 'approved');
    assert.equal(out.id, id);
    assert.deepEqual(out.arguments, { env: 'production', version: '1.4.3' });
    assert.deepEqual(out.original_arguments, { env: 'production', version: '1.4.2' });
    assert.equal(out.edited, true);
    assert.equal(out.reason, 'ship the patch');
    assert.equal(out.decided_by.label, 'alice@example.com');
    assert.match(out.receipt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(typeof out.redeemed_at, 'string');
    assert.equal(out.url, `${w.gw.url}/v1/actions/${id}`);
    assert.equal((await action(id)).redeemed_at, out.redeemed_at, 'the gateway recorded this run redeeming it');
    const events = (await auditRows(w, id)).map((e) => `${e.event} by ${e.actor_type}`);
    assert.ok(events.includes('action.created by agent'), events.join(', '));
    assert.ok(events.includes('receipt.redeemed by agent'), events.join(', '));

    // The same step run again (same idempotency key): the same action, whose approval is spent.
    const again = exits(
      await propose([
        '--tool',
        'deploy',
        '--args',
        '{"env":"production","version":"1.4.2"}',
        '--resource',
        'env:production',
        '--purpose',
        'release 1.4.2',
        '--wait',
        '--redeem',
        '--idempotency-key',
        'run-1-1-deploy',
      ]).done,
      14,
    );
    assert.equal(json(again).outcome, 'already_redeemed');
    assert.equal(json(again).id, id);
    assert.equal(json(again).receipt, null, 'a spent approval is not handed out as a licence');
    assert.match(again.stderr, /already used by an earlier run/);
  });

  test("a denial exits 10 with the reviewer's reason on stdout and stderr, and nothing is redeemed", async () => {
    const run = propose(['--tool', 'deploy', '--args', '{"env":"production"}', '--wait', '--redeem']);
    const id = await waitingId(run);
    assert.equal((await review(w, id, w.keys.alice, { decision: 'deny', reason: 'not during the freeze' })).status, 200);
    const r = exits(await run.done, 10);
    assert.equal(json(r).outcome, 'denied');
    assert.equal(json(r).reason, 'not during the freeze');
    assert.equal(json(r).receipt, null);
    assert.equal(json(r).redeemed_at, null);
    assert.match(r.stderr, /Denied by alice@example\.com: not during the freeze/);
  });

  test('a policy denial exits 10 at once, without waiting', async () => {
    const r = exits(await propose(['--tool', 'drop_database', '--args', '{"name":"prod"}']).done, 10);
    assert.equal(json(r).status, 'denied');
    assert.equal(json(r).reason, 'databases are never dropped from CI');
    assert.equal(json(r).decided_by.type, 'policy');
  });

  test('an action the agent withdraws while the command waits exits 12', async () => {
    const run = propose(['--tool', 'deploy', '--args', '{"env":"staging"}', '--wait']);
    const id = await waitingId(run);
    assert.equal((await call(w, 'POST', `/v1/actions/${id}/cancel`, w.keys.agent, { reason: 'superseded' })).status, 200);
    const r = exits(await run.done, 12);
    assert.equal(json(r).outcome, 'cancelled');
    assert.equal(json(r).status, 'cancelled');
  });

  test('without a decision the command exits 13 and leaves the action pending; the same idempotency key re-attaches until a person decides', async () => {
    const args = ['--tool', 'deploy', '--args', '{"env":"production","version":"2.0.0"}', '--idempotency-key', 'run-2-1-deploy'];
    const first = exits(await propose(args).done, 13);
    const id = json(first).id as string;
    assert.equal(json(first).outcome, 'pending');
    assert.equal(json(first).arguments.version, '2.0.0');

    const timedOut = exits(await propose([...args, '--wait', '--timeout', '1s']).done, 13);
    assert.equal(json(timedOut).id, id, 're-attached to the same action');
    assert.match(timedOut.stderr, /no decision within 1s/);
    assert.equal((await action(id)).status, 'pending', 'the action is left pending for a person');

    const run = propose([...args, '--wait', '--timeout', '10m']);
    assert.equal(await waitingId(run), id);
    assert.equal((await review(w, id, w.keys.alice, { decision: 'approve' })).status, 200);
    const r = exits(await run.done, 0);
    assert.equal(json(r).id, id);
    assert.equal(json(r).redeemed_at, null, 'without --redeem the approval is left for an executor to redeem');
    assert.equal(typeof json(r).receipt, 'string');
  });

  test('a cancelled CI job (SIGTERM) stops the wait, not the action: exit 13, the action still pending with what was proposed', async () => {
    const run = propose([
      '--tool',
      'deploy',
      '--args',
      '{"env":"production"}',
      '--on-behalf-of',
      'carol@example.com',
      '--session',
      'github-run-77',
      '--wait',
    ]);
    const id = await waitingId(run);
    run.kill('SIGTERM');
    const r = exits(await run.done, 13);
    assert.equal(json(r).outcome, 'pending');
    assert.match(r.stderr, /interrupted: stopped waiting/);
    const a = await action(id);
    assert.equal(a.status, 'pending');
    assert.equal(a.on_behalf_of, 'carol@example.com');
    assert.equal(a.session_id, 'github-run-77');
  });

  test('an action the policy allows is redeemed by the proposing request with --redeem; the same key again exits 14, never 0', async () => {
    const args = ['--tool', 'smoke_test', '--args', '{"suite":"api"}', '--redeem', '--idempotency-key', 'run-3-1-smoke'];
    const first = json(exits(await propose(args).done, 0));
    assert.equal(first.outcome, 'approved');
    assert.equal(first.decided_by.type, 'policy');
    assert.equal(typeof first.redeemed_at, 'string');
    assert.equal((await action(first.id)).redeemed_at, first.redeemed_at);

    const second = exits(await propose(args).done, 14);
    assert.equal(json(second).id, first.id);
    assert.equal(json(second).outcome, 'already_redeemed');
    assert.equal(json(second).redeemed_at, first.redeemed_at, 'it names when the first run redeemed it');
  });

  test('a script reads the final arguments from --json output with a JSON parser, the arguments coming from stdin', async () => {
    const script = `echo '{"suite": "payments", "shards": 4}' | "$NODE" "$CLI" propose --tool smoke_test --args-file - --json | jq -r '.arguments.suite + " x" + (.arguments.shards | tostring)'`;
    const r = exits(
      await start(['bash', '-c', `set -eo pipefail; ${script}`], { ...asAgent(), CLI: CLI_MAIN, NODE: process.execPath }).done,
      0,
    );
    assert.equal(r.stdout, 'payments x4\n');
  });

  test('arguments that are not a JSON object, or cannot be stored exactly, exit 2 and propose nothing', async () => {
    const before = await countActions();
    for (const bad of ['{"env": production}', '["production"]', '{"build": 18446744073709551617}']) {
      const r = exits(await propose(['--tool', 'deploy', '--args', bad, '--wait']).done, 2);
      assert.equal(r.stdout, '', 'nothing on stdout for a script to mistake for a decision');
      assert.match(r.stderr, /error \(invalid_request\): (invalid )?--args/);
    }
    exits(await propose(['--tool', 'deploy', '--args-file', '-'], { input: 'not json' }).done, 2);
    exits(await propose(['--tool', 'deploy', '--timeout', '5m']).done, 2);
    assert.equal(await countActions(), before);
  });

  test("a person's key is refused (exit 4), no key at all exits 3, and a reused key with other arguments exits 6", async () => {
    const before = await countActions();
    const person = exits(await propose(['--tool', 'deploy'], { key: w.keys.alice }).done, 4);
    assert.match(person.stderr, /only agent keys can propose actions.*COUNTERSIGN_AGENT_KEY must be an agent's key/);
    assert.equal(person.stdout, '');
    const none = exits(
      await start([process.execPath, CLI_MAIN, 'propose', '--tool', 'deploy'], childEnv({ COUNTERSIGN_URL: w.gw.url })).done,
      3,
    );
    assert.match(none.stderr, /set COUNTERSIGN_AGENT_KEY/);
    assert.equal(await countActions(), before, 'neither proposed anything');

    exits(await propose(['--tool', 'drop_database', '--idempotency-key', 'run-4-1-x']).done, 10);
    const clash = exits(await propose(['--tool', 'drop_database', '--args', '{"other":true}', '--idempotency-key', 'run-4-1-x']).done, 6);
    assert.match(clash.stderr, /idempotency_conflict/);
  });

  describe('the GitHub Actions job in docs/ci.md', () => {
    const job = deployJob();
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'cs-ci-'));
      // The "Install the Countersign CLI" step, done the local way: `countersign` on the PATH is the built CLI.
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'countersign'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_MAIN}" "$@"\n`);
      chmodSync(join(dir, 'bin', 'countersign'), 0o755);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

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

    test("a denial fails the job with the reviewer's reason in the log, and nothing is deployed", async () => {
      const ci = runner('9002', '1.5.0');
      const job1 = await ci.steps(async (step, run) => {
        if (!step.startsWith('Ask a person')) return;
        const id = await waitingId(run);
        assert.equal((await review(w, id, w.keys.alice, { decision: 'deny', reason: 'not during the freeze' })).status, 200);
      });
      assert.equal(job1.failedAt, 'Ask a person to approve the deploy');
      assert.equal(job1.code, 10);
      assert.match(job1.log, /Denied by alice@example\.com: not during the freeze/);
      assert.match(job1.log, /::error title=Deploy not approved::denied: not during the freeze \(exit 10\)/);
      assert.equal(ci.deploys(), '');
    });
  });
});

forEachDialect('countersign propose, on a gateway with a fake clock', (dialect) => {
  test('an action that expires while the command waits exits 11', async () => {
    const clock = new FakeClock();
    const w = await world(dialect, { listen: true, clock, config: withPolicy(POLICY) });
    try {
      const run = start(
        [process.execPath, CLI_MAIN, 'propose', '--tool', 'deploy', '--args', '{"env":"production"}', '--wait'],
        childEnv({ COUNTERSIGN_URL: w.gw.url, COUNTERSIGN_AGENT_KEY: w.keys.agent }),
      );
      await waitingId(run);
      await clock.advance(2 * 60 * 60_000); // past the default workflow's one-hour expiry
      await w.gw.scheduler.tick();
      await w.gw.scheduler.tick();
      const r = exits(await run.done, 11);
      assert.equal(JSON.parse(r.stdout).outcome, 'expired');
      assert.match(r.stderr, /Not approved in time/);
    } finally {
      await w.close();
    }
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
