import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config/load.js';
import { reloadPolicy } from '../src/domain/policy/reload-policy.js';
import { EXAMPLE } from './fixtures/policies.js';
import { addPeople, auditRows, call, forEachDialect, propose, review, runCli, type World, world } from './helpers.js';

const RELAXED = `
policy:
  rules:
    - { name: deploys-pass, when: 'tool == "deploy"', effect: allow }
`;

forEachDialect('policy reload', (dialect) => {
  let w: World;
  let dir: string;
  let file: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-policy-'));
    file = join(dir, 'countersign.yaml');
    writeFileSync(file, EXAMPLE);
    const fromFile = loadConfig({ file, env: {} });
    w = await world(dialect, { config: (c) => ({ ...c, configFile: file, policy: fromFile.policy, workflows: fromFile.workflows }) });
  });
  after(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a policy edit leaves in-flight actions alone; new actions follow the new policy', async () => {
    const k = await addPeople(w, [{ email: 'sre1@example.com', groups: ['sre'] }]);
    const { body: inFlight } = await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
    const oldHash = inFlight.policy.hash;

    writeFileSync(file, RELAXED);
    const loaded = await reloadPolicy(w.gw.deps);
    assert.notEqual(loaded.hash, oldHash);

    const { body: fresh } = await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
    assert.equal(fresh.status, 'approved');
    assert.equal(fresh.policy.rule, 'deploys-pass');
    assert.equal(fresh.policy.hash, loaded.hash);

    const still = (await call(w, 'GET', `/v1/actions/${inFlight.id}`, w.keys.ada)).body;
    assert.equal(still.status, 'pending');
    assert.equal(still.workflow.name, 'two-sres');
    const vote = await review(w, inFlight.id, k['sre1@example.com'] as string, { decision: 'approve' });
    assert.equal(vote.body.status, 'pending', 'the frozen quorum of 2 still applies');
    assert.equal(vote.body.workflow.stage.still_needed, 1);

    const loads = (await auditRows(w)).filter((e) => e.event === 'policy.activated').map((e) => JSON.parse(e.data));
    assert.deepEqual(loads.at(-1), {
      version: 2,
      hash: loaded.hash,
      previous_version: 1,
      previous_hash: oldHash,
      trigger: 'reload',
      by: 'system',
      note: `reloaded from ${file}`,
      restored_from: null,
      rules: 1,
      workflows: ['default'],
    });
  });

  test('reloading a config file without a policy section leaves the active version in force', async () => {
    const before = (await call(w, 'GET', '/v1/policy', w.keys.ada)).body;
    writeFileSync(file, 'review: { default_expiry: 2h }\n');
    const loaded = await reloadPolicy(w.gw.deps);
    assert.equal(loaded.hash, before.hash);
    const after = (await call(w, 'GET', '/v1/policy', w.keys.ada)).body;
    assert.equal(after.version, before.version, 'the built-in defaults did not replace it');
  });

  test('a refused policy leaves the one in force untouched', async () => {
    const before = w.gw.deps.policy.current.hash;
    writeFileSync(file, 'policy:\n  rules:\n    - { name: broken, when: "tool ==", effect: allow }\n');
    await assert.rejects(reloadPolicy(w.gw.deps), /broken/);
    assert.equal(w.gw.deps.policy.current.hash, before);
    assert.equal((await propose(w, { tool: 'deploy', arguments: {} })).body.status, 'approved');
  });
});

describe('policy check, test and replay (CLI)', () => {
  let dir: string;
  const env = () => ({ PATH: process.env.PATH ?? '', HOME: dir, COUNTERSIGN_LOG_LEVEL: 'warn' });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-policy-cli-'));
    writeFileSync(join(dir, 'good.yaml'), EXAMPLE);
    writeFileSync(join(dir, 'relaxed.yaml'), RELAXED);
    writeFileSync(
      join(dir, 'bad.yaml'),
      'policy:\n  rules:\n    - name: ok\n      when: tool == "a"\n      effect: allow\n    - name: typo\n      when: tool == "a" &&\n      effect: deny\n',
    );
    writeFileSync(
      join(dir, 'tests.yaml'),
      `tests:
  - name: prod deploys need two SREs
    action: { tool: deploy, arguments: { env: production } }
    expect: { effect: review, workflow: two-sres, rule: prod-deploys }
  - name: rm is caught inside a compound command
    action: { tool: shell, arguments: { command: "npm test && rm -rf /" } }
    expect: { effect: deny, rule: no-rm }
  - name: reads pass
    action: { tool: get_logs, annotations: { readOnlyHint: true }, agent: { name: deployer } }
    expect: { effect: allow }
`,
    );
    writeFileSync(
      join(dir, 'failing.yaml'),
      'tests:\n  - name: wrongly expects staging deploys to pass\n    action: { tool: deploy, arguments: { env: staging } }\n    expect: { effect: allow }\n',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('policy check accepts the example and refuses a broken rule, naming it and its position', async () => {
    const ok = await runCli(['policy', 'check', '--config', join(dir, 'good.yaml')], env());
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: policy [0-9a-f]{12}: 3 rule\(s\), workflows default, two-sres\n$/);
    const bad = await runCli(['policy', 'check', '--config', join(dir, 'bad.yaml')], env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /typo/);
    assert.match(bad.stderr, /line \d+, column \d+/);
  });

  test('policy test prints a pass/fail table and fails when a case fails', async () => {
    const pass = await runCli(['policy', 'test', join(dir, 'tests.yaml'), '--config', join(dir, 'good.yaml')], env());
    assert.equal(pass.code, 0, pass.stderr);
    assert.match(pass.stdout, /pass\s+prod deploys need two SREs\s+review, rule prod-deploys, workflow two-sres/);
    assert.match(pass.stdout, /3 passed, 0 failed/);
    const fail = await runCli(['policy', 'test', join(dir, 'failing.yaml'), '--config', join(dir, 'good.yaml')], env());
    assert.equal(fail.code, 1);
    assert.match(fail.stdout, /FAIL\s+wrongly expects staging deploys to pass\s+allow\s+review/);
  });

  test('policy replay shows, per rule, what a candidate policy would change, and writes nothing', async () => {
    const data = join(dir, 'data');
    const w = await world('sqlite', {
      config: () => ({ ...loadConfig({ file: join(dir, 'good.yaml'), env: {}, overrides: { dataDir: data, port: 0 } }) }),
    });
    try {
      await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
      await propose(w, { tool: 'deploy', arguments: { env: 'staging' } });
      await propose(w, { tool: 'get_logs', arguments: {}, annotations: { readOnlyHint: true } });
    } finally {
      await w.gw.close();
    }
    const count = () => {
      const db = new Database(join(data, 'countersign.db'), { readonly: true });
      try {
        return db.prepare('select (select count(*) from audit_log) + (select count(*) from actions) as n').get();
      } finally {
        db.close();
      }
    };
    const before = count();
    const r = await runCli(['policy', 'replay', '--policy', join(dir, 'relaxed.yaml'), '--since', '1d', '--data', data], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /replayed 3 action\(s\) from the last 1d under policy [0-9a-f]{12}: 0 unchanged/);
    assert.match(r.stdout, /deploys-pass\s+review \(two-sres\)\s+allow\s+1/);
    assert.match(r.stdout, /deploys-pass\s+review \(default\)\s+allow\s+1/);
    assert.match(r.stdout, /default\s+allow\s+review \(default\)\s+1/);
    assert.deepEqual(count(), before, 'nothing was written');
    await w.env.cleanup();
  });
});
