import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { parsePolicyDocument, renderPolicyDocument } from '../src/policy/document.js';
import { loadPolicy } from '../src/policy/store.js';
import { EXAMPLE, WORKED } from './fixtures/policies.js';
import { auditRows, call, forEachDialect, propose, type World, withPolicy, world } from './helpers.js';

const STRICT = `
policy:
  default: review
  rules:
    - name: no-deploys
      when: tool == "deploy"
      effect: deny
      reason: deploy freeze # comments are kept in the history
`;

const RELAXED = `
policy:
  rules:
    - { name: deploys-pass, when: 'tool == "deploy"', effect: allow }
`;

async function policyAudits(w: World) {
  return (await auditRows(w)).filter((e) => e.event === 'policy.activated').map((e) => ({ ...e, data: JSON.parse(e.data) }));
}

async function policyEvents(w: World) {
  const rows = await w.gw.deps.db.read.selectFrom('events').selectAll().where('type', '=', 'policy.activated').orderBy('seq').execute();
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) }));
}

forEachDialect('policy versions over HTTP', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { config: withPolicy(EXAMPLE) });
  });
  after(() => w.close());

  test('the first node to start seeds version 1 from its config, and that is what it decides with', async () => {
    const active = await call(w, 'GET', '/v1/policy', w.keys.ada);
    assert.equal(active.status, 200);
    assert.equal(active.body.version, 1);
    assert.equal(active.body.trigger, 'start');
    assert.equal(active.body.active, true);
    assert.equal(active.body.hash, w.gw.deps.policy.current.hash);
    assert.deepEqual(active.body.serving, { version: 1, hash: active.body.hash });
    // The stored document compiles back to the same policy, on any node.
    const again = loadPolicy(parsePolicyDocument(active.body.document).sections, w.gw.deps.config.review.defaultExpiryMs);
    assert.equal(again.hash, active.body.hash);
  });

  test('a policy applied over HTTP is audited, emitted, listed in history and in force for new proposals', async () => {
    const before = (await call(w, 'GET', '/v1/policy', w.keys.ada)).body;
    const r = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: STRICT, note: 'freeze for the release' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.changed, true);
    assert.equal(r.body.previous_version, 1);
    assert.equal(r.body.version.version, 2);
    assert.equal(r.body.version.trigger, 'apply');
    assert.deepEqual(r.body.version.applied_by, {
      type: 'user',
      id: (await call(w, 'GET', '/v1/me', w.keys.ada)).body.id,
      label: 'ada@example.com',
    });

    const denied = await propose(w, { tool: 'deploy', arguments: { env: 'staging' } });
    assert.equal(denied.body.status, 'denied');
    assert.equal(denied.body.policy.rule, 'no-deploys');
    assert.equal(denied.body.policy.hash, r.body.version.hash);

    const audit = (await policyAudits(w)).at(-1);
    assert.equal(audit?.actor_type, 'user');
    assert.deepEqual(audit?.data, {
      version: 2,
      hash: r.body.version.hash,
      previous_version: 1,
      previous_hash: before.hash,
      trigger: 'apply',
      by: 'ada@example.com',
      note: 'freeze for the release',
      restored_from: null,
      rules: 1,
      workflows: ['default'],
    });
    const event = (await policyEvents(w)).at(-1);
    assert.deepEqual(event?.data, { policy: { version: 2, hash: r.body.version.hash, previous_version: 1, trigger: 'apply' } });
    assert.equal(event?.action_id, null);

    const history = await call(w, 'GET', '/v1/policy/versions', w.keys.ada);
    assert.equal(history.body.active_version, 2);
    assert.deepEqual(
      history.body.items.map((v: { version: number; active: boolean; trigger: string }) => [v.version, v.active, v.trigger]),
      [
        [2, true, 'apply'],
        [1, false, 'start'],
      ],
    );
    const shown = await call(w, 'GET', '/v1/policy/versions/2', w.keys.ada);
    assert.equal(shown.body.document, STRICT, 'the document is kept as written, comments included');
  });

  test('a rollback makes an earlier document active again as a new version; history only grows', async () => {
    const v1 = (await call(w, 'GET', '/v1/policy/versions/1', w.keys.ada)).body;
    const r = await call(w, 'POST', '/v1/policy/rollback', w.keys.ada, { version: 1, note: 'freeze lifted' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.version.version, 3);
    assert.equal(r.body.version.trigger, 'rollback');
    assert.equal(r.body.version.restored_from, 1);
    assert.equal(r.body.version.hash, v1.hash);
    assert.equal((await call(w, 'GET', '/v1/policy/versions/3', w.keys.ada)).body.document, v1.document);
    assert.equal((await propose(w, { tool: 'deploy', arguments: { env: 'production' } })).body.workflow.name, 'two-sres');
    const audit = (await policyAudits(w)).at(-1);
    assert.equal(audit?.data.trigger, 'rollback');
    assert.equal(audit?.data.restored_from, 1);
    const history = (await call(w, 'GET', '/v1/policy/versions', w.keys.ada)).body;
    assert.deepEqual(
      history.items.map((v: { version: number }) => v.version),
      [3, 2, 1],
    );
    assert.equal((await call(w, 'POST', '/v1/policy/rollback', w.keys.ada, { version: 99 })).status, 404);
  });

  test('a version number beyond what a version can be is a 400 naming the field, never a database error', async () => {
    const huge = 2_147_483_648;
    const rollback = await call(w, 'POST', '/v1/policy/rollback', w.keys.ada, { version: huge, expected_version: 0 });
    assert.equal(rollback.status, 400, JSON.stringify(rollback.body));
    assert.match(JSON.stringify(rollback.body.error), /version/);
    const stale = await call(w, 'POST', '/v1/policy/rollback', w.keys.ada, { version: 1, expected_version: huge });
    assert.equal(stale.status, 400);
    assert.equal((await call(w, 'GET', `/v1/policy/versions/${huge}`, w.keys.ada)).status, 400);
  });

  test('applying what is already active, or rolling back to it, writes nothing and says so', async () => {
    const audits = (await auditRows(w)).length;
    const active = (await call(w, 'GET', '/v1/policy', w.keys.ada)).body;
    const same = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: `# reformatted\n${active.document}` });
    assert.equal(same.status, 200);
    assert.equal(same.body.changed, false);
    assert.equal(same.body.version.version, active.version);
    assert.equal((await call(w, 'POST', '/v1/policy/rollback', w.keys.ada, { version: 1 })).body.changed, false);
    assert.equal((await auditRows(w)).length, audits);
  });

  test('a refused document names every problem and changes nothing: no version, no audit row', async () => {
    const audits = (await auditRows(w)).length;
    const active = w.gw.deps.policy.current.hash;
    const bad = `
policy:
  rules:
    - { name: broken, when: 'tool ==', effect: allow }
    - { name: unknown-workflow, when: 'true', effect: review, workflow: nowhere }
workflows:
  slow:
    expires_after: forever
    stages: [{ approvers: { roles: [reviewer] } }]
`;
    const r = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: bad });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_request');
    assert.match(r.body.error.message, /expires_after/);
    const compiled = `
policy:
  rules:
    - { name: broken, when: 'tool ==', effect: allow }
    - { name: unknown-workflow, when: 'true', effect: review, workflow: nowhere }
`;
    const r2 = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: compiled });
    assert.equal(r2.status, 400);
    const paths = r2.body.error.issues.map((i: { path: string }) => i.path).join(' ');
    assert.match(paths, /broken/);
    assert.match(paths, /unknown-workflow/);
    const notYaml = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: 'policy: [unclosed' });
    assert.equal(notYaml.status, 400);
    assert.match(notYaml.body.error.message, /line 1/);
    const extra = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: 'database: { url: "postgres://x" }\n' });
    assert.equal(extra.status, 400, 'over HTTP a document holds the policy sections only');
    for (const empty of [{}, { document: '{}' }, { note: 'nothing else' }]) {
      const r3 = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, empty);
      assert.equal(r3.status, 400, 'an empty document is not taken to mean the built-in defaults');
      assert.match(r3.body.error.message, /policy: \{\}/);
    }
    assert.equal((await auditRows(w)).length, audits);
    assert.equal(w.gw.deps.policy.current.hash, active);
    assert.equal((await call(w, 'GET', '/v1/policy/versions', w.keys.ada)).body.items.length, 3);
  });

  test('the sections may be sent as JSON; durations are kept as written', async () => {
    const r = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, {
      policy: { rules: [{ name: 'deploys-review', when: 'tool == "deploy"', effect: 'review', workflow: 'slow' }] },
      workflows: { slow: { expires_after: '2h', stages: [{ approvers: { roles: ['reviewer'] }, timeout: 90 }] } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const doc = (await call(w, 'GET', `/v1/policy/versions/${r.body.version.version}`, w.keys.ada)).body.document;
    assert.match(doc, /expires_after: 2h/);
    assert.match(doc, /timeout: 90\n/);
    const a = (await propose(w, { tool: 'deploy', arguments: {} })).body;
    assert.equal(a.workflow.name, 'slow');
    assert.equal(Date.parse(a.expires_at) - Date.parse(a.created_at), 2 * 3_600_000);
  });

  test('an expected_version that is no longer active is a conflict and writes nothing', async () => {
    const active = (await call(w, 'GET', '/v1/policy', w.keys.ada)).body.version;
    const audits = (await auditRows(w)).length;
    const stale = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: RELAXED, expected_version: active - 1 });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, 'conflict');
    const staleRollback = await call(w, 'POST', '/v1/policy/rollback', w.keys.ada, { version: 2, expected_version: active - 1 });
    assert.equal(staleRollback.status, 409);
    assert.equal((await auditRows(w)).length, audits);
    const ok = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: RELAXED, expected_version: active });
    assert.equal(ok.status, 201);
  });

  test('concurrent applies never both replace the same version: expecting it, exactly one wins; without, they queue', async () => {
    const active = (await call(w, 'GET', '/v1/policy', w.keys.ada)).body.version;
    const raced = await Promise.all(
      [STRICT, EXAMPLE].map((document) => call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document, expected_version: active })),
    );
    assert.deepEqual(raced.map((r) => r.status).sort(), [201, 409]);
    const queued = await Promise.all([RELAXED, WORKED].map((document) => call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document })));
    const versions = queued.map((r) => [r.body.version.version, r.body.previous_version]).sort();
    assert.deepEqual(versions, [
      [active + 2, active + 1],
      [active + 3, active + 2],
    ]);
  });

  test('only admins read or change the policy: reviewers, viewers and agents are refused, no key is 401', async () => {
    for (const key of [w.keys.alice, w.keys.victor, w.keys.agent]) {
      assert.equal((await call(w, 'GET', '/v1/policy', key)).status, 403);
      assert.equal((await call(w, 'GET', '/v1/policy/versions', key)).status, 403);
      assert.equal((await call(w, 'GET', '/v1/policy/versions/1', key)).status, 403);
      assert.equal((await call(w, 'POST', '/v1/policy/versions', key, { document: RELAXED })).status, 403);
      assert.equal((await call(w, 'POST', '/v1/policy/rollback', key, { version: 1 })).status, 403);
    }
    assert.equal((await call(w, 'POST', '/v1/policy/versions', undefined, { document: RELAXED })).status, 401);
  });
});

test('a config loaded at start renders as a document that compiles to the same hash', () => {
  for (const yaml of [EXAMPLE, WORKED, '']) {
    const config = withPolicy(yaml || '{}')(loadConfig({ env: {} }));
    const fromConfig = loadPolicy(config, config.review.defaultExpiryMs);
    const doc = parsePolicyDocument(renderPolicyDocument(config));
    assert.equal(loadPolicy(doc.sections, config.review.defaultExpiryMs).hash, fromConfig.hash);
  }
});
