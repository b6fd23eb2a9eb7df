import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { freezeWorkflow, parseFrozenWorkflow } from '../src/domain/workflow/frozen.js';
import { requireStepUp } from '../src/domain/workflow/step-up.js';
import { FakeClock } from '../src/lib/clock.js';
import { CsError } from '../src/lib/errors.js';
import { parsePolicyDocument, renderPolicyDocument } from '../src/policy/document.js';
import { auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { STEP_UP_POLICY, strongSession } from './step-up-helpers.js';

// Step-up in the policy (validation, freezing, rendering) and in the two ways of approving more than one
// vote at a time: batch reviews and standing grants.

function refusal(text: string): CsError {
  try {
    parsePolicyDocument(text);
  } catch (e) {
    assert.ok(e instanceof CsError, String(e));
    return e;
  }
  assert.fail('the policy should have been refused');
}
const withStepUp = (stepUp: string) => `
workflows:
  risky:
    stages:
      - approvers: { roles: [reviewer] }
        step_up: ${stepUp}
`;

test('a step_up max_age shorter than 30s, longer than 24h, not a duration, missing, or with unknown keys is refused with its path', () => {
  const path = 'workflows.risky.stages.0.step_up.max_age';
  for (const bad of ['{ max_age: 10s }', '{ max_age: 25h }', '{ max_age: 0 }']) {
    const e = refusal(withStepUp(bad));
    assert.equal(e.code, 'invalid_request');
    assert.deepEqual(e.issues, [{ path, message: 'step_up.max_age must be between 30s and 24h' }], bad);
  }
  assert.match(refusal(withStepUp('{ max_age: soon }')).issues?.[0]?.message ?? '', /"soon" is not a duration/);
  assert.equal(refusal(withStepUp('{}')).issues?.[0]?.path, path);
  const extra = refusal(withStepUp('{ max_age: 5m, methods: [passkey] }'));
  assert.equal(extra.issues?.[0]?.path, 'workflows.risky.stages.0.step_up');
  assert.match(extra.issues?.[0]?.message ?? '', /methods/);
});

test('a valid step_up is frozen in ms with its stage, written back as text, and bounds are inclusive', () => {
  for (const [text, ms] of [
    ['5m', 300_000],
    ['30s', 30_000],
    ['24h', 86_400_000],
    [90, 90_000],
  ] as const) {
    const doc = parsePolicyDocument(withStepUp(`{ max_age: ${text} }`));
    const frozen = freezeWorkflow('risky', doc.sections.workflows.risky as never, 3_600_000);
    assert.deepEqual(frozen.stages[0]?.step_up, { max_age_ms: ms });
    const again = parsePolicyDocument(renderPolicyDocument(doc.sections));
    assert.deepEqual(again.sections.workflows.risky?.stages[0]?.step_up, { max_age: ms }, 'rendered as a duration, read back the same');
  }
  const plain = parsePolicyDocument('workflows:\n  plain:\n    stages:\n      - approvers: { roles: [reviewer] }\n');
  assert.equal('step_up' in (freezeWorkflow('plain', plain.sections.workflows.plain as never, 1000).stages[0] ?? {}), false);
});

test('a workflow frozen before step-up existed still parses and requires no step-up', () => {
  const old =
    '{"name":"default","expires_after_ms":3600000,"stages":[{"index":0,"name":"stage-1","approvers":{"roles":["reviewer"]},"quorum":1,"when":null,"timeout_ms":null,"on_timeout":null,"levels":[],"repeat":0}]}';
  const stage = parseFrozenWorkflow(old).stages[0];
  assert.ok(stage);
  const keyHolder = {
    type: 'user' as const,
    id: 'u1',
    email: 'alice@example.com',
    name: 'Alice',
    role: 'reviewer' as const,
    groups: [],
    credential: { kind: 'api_key' as const, keyPrefix: 'cs_live_abc' },
  };
  assert.equal(requireStepUp(keyHolder, stage, 'approve', { now: 0, oidc: false, returnTo: '/' }), null);
});

forEachDialect('step-up in batch reviews and standing grants', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup(policy = STEP_UP_POLICY) {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
    const w = await world(dialect, { config: withPolicy(`${policy}\ngrants: { max_duration: 8h, max_uses: 50 }\n`), clock });
    open.push(w);
    return { w, clock };
  }
  async function batchOfProdAndStaging(w: World) {
    const actions = [
      { tool: 'deploy', arguments: { env: 'production' } },
      { tool: 'deploy', arguments: { env: 'staging' } },
    ];
    const r = await call(w, 'POST', '/v1/actions/batch', w.keys.agent, { actions });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { batchId: r.body.batch_id as string, ids: r.body.actions.map((a: { id: string }) => a.id) as [string, string] };
  }
  async function state(w: World, ids: readonly string[]) {
    const views = await Promise.all(ids.map(async (id) => (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body));
    return { log: (await auditRows(w)).length, actions: views.map((a) => [a.status, a.version, a.reviews.length]) };
  }

  test('approving a batch with an API key is refused up front with step_up_required when one action needs step-up, and nothing is written', async () => {
    const { w } = await setup();
    const { batchId, ids } = await batchOfProdAndStaging(w);
    const before = await state(w, ids);
    const r = await call(w, 'POST', `/v1/batches/${batchId}/reviews`, w.keys.alice, { decision: 'approve' });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'step_up_required');
    assert.deepEqual(
      r.body.error.details.refused.map((x: { id: string; code: string }) => [x.id, x.code]),
      [[ids[0], 'step_up_required']],
    );
    assert.deepEqual(r.body.error.details.refused[0].details.step_up, { max_age_ms: 300_000 });
    assert.deepEqual(await state(w, ids), before);
  });

  test('denying the same batch with an API key needs no step-up', async () => {
    const { w } = await setup();
    const { batchId, ids } = await batchOfProdAndStaging(w);
    const r = await call(w, 'POST', `/v1/batches/${batchId}/reviews`, w.keys.alice, { decision: 'deny' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.results.map((x: { id: string; action: { status: string } }) => [x.id, x.action.status]),
      ids.map((id) => [id, 'denied']),
    );
  });

  test('a freshly re-authenticated session approves the whole batch, and only the step-up vote records the requirement', async () => {
    const { w, clock } = await setup();
    const { batchId, ids } = await batchOfProdAndStaging(w);
    const session = await strongSession(w, clock.now());
    const r = await call(w, 'POST', `/v1/batches/${batchId}/reviews`, undefined, { decision: 'approve' }, session);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.results.map((x: { ok: boolean; action: { status: string } }) => [x.ok, x.action.status]),
      [
        [true, 'approved'],
        [true, 'approved'],
      ],
    );
    const stepUps = await Promise.all(
      ids.map(async (id) => JSON.parse((await auditRows(w, id)).find((e) => e.event === 'action.reviewed')?.data as string).step_up),
    );
    assert.deepEqual(stepUps, [{ max_age_ms: 300_000, strong_at: clock.now() }, undefined]);
  });

  test('approving a step-up action with a grant is refused whole: no grant, no vote, still pending', async () => {
    const { w, clock } = await setup();
    const session = await strongSession(w, clock.now());
    const { body: a } = await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
    const before = await state(w, [a.id]);
    const r = await call(w, 'POST', `/v1/actions/${a.id}/reviews`, undefined, { decision: 'approve', grant: { max_uses: 5 } }, session);
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'forbidden');
    assert.match(r.body.error.message, /stage "sign-off" of workflow "risky" needs a fresh strong sign-in at every approval/);
    assert.deepEqual(await state(w, [a.id]), before);
    assert.equal((await call(w, 'GET', '/v1/grants', w.keys.ada)).body.items.length, 0);
  });

  test('a grant made on a plain stage never approves a later action that reaches a step-up stage', async () => {
    const { w } = await setup();
    const { body: source } = await propose(w, { tool: 'deploy', arguments: { env: 'staging' } });
    const granted = await review(w, source.id, w.keys.alice, { decision: 'approve', grant: { match: { when: 'tool == "deploy"' } } });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    const risky = await propose(w, { tool: 'deploy', arguments: { env: 'production' } });
    assert.equal(risky.body.status, 'pending', 'the step-up stage still waits for a fresh approval');
    assert.equal(risky.body.grant_id, null);
    const covered = await propose(w, { tool: 'deploy', arguments: { env: 'staging' } });
    assert.equal(covered.body.status, 'approved', 'the grant still covers what it may');
    const grants = (await call(w, 'GET', '/v1/grants', w.keys.ada)).body.items;
    assert.equal(grants[0].uses, 1);
  });

  test('a person an escalation adds to a step-up stage needs the same fresh sign-in, and the escalation fires on time as before', async () => {
    const { w, clock } = await setup(`
policy:
  rules:
    - { name: rollbacks, when: 'tool == "rollback"', effect: review, workflow: escalating }
workflows:
  escalating:
    stages:
      - approvers: { users: [carol@example.com] }
        step_up: { max_age: 5m }
        escalation:
          - { after: 10m, approvers: { users: [alice@example.com] } }
`);
    const { body: a } = await propose(w, { tool: 'rollback', arguments: {} });
    const early = await call(
      w,
      'POST',
      `/v1/actions/${a.id}/reviews`,
      undefined,
      { decision: 'approve' },
      await strongSession(w, clock.now()),
    );
    assert.equal(early.status, 403);
    assert.equal(early.body.error.code, 'forbidden', 'before the escalation alice is not an approver, however fresh her sign-in');
    await clock.advance(10 * 60_000);
    await w.gw.scheduler.tick();
    await w.gw.scheduler.tick();
    const escalated = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.ada)).body;
    assert.deepEqual([escalated.workflow.stage.escalations, escalated.workflow.stage.step_up], [1, { max_age_ms: 300_000 }]);
    const withKey = await review(w, a.id, w.keys.alice, { decision: 'approve' });
    assert.equal(withKey.status, 403);
    assert.equal(withKey.body.error.code, 'step_up_required');
    const fresh = await call(
      w,
      'POST',
      `/v1/actions/${a.id}/reviews`,
      undefined,
      { decision: 'approve' },
      await strongSession(w, clock.now()),
    );
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    assert.equal(fresh.body.status, 'approved');
  });
});
