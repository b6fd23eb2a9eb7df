/*
 * Annotations (readOnlyHint and the rest) are what the agent says about its own call. Under the built-in
 * policy they approve nothing unless the operator vouched for that agent (policy `trust_annotations`).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { selectActionRows } from '../src/domain/actions/action-rows.js';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { ADMIN, call, forEachDialect, propose, trustingAnnotationsOf, type World, withPolicy, world } from './helpers.js';

const SELF_APPROVAL = { tool: 'deploy', arguments: { cmd: 'rm -rf /var/lib/db' }, annotations: { readOnlyHint: true } };

forEachDialect('annotation trust', (dialect) => {
  const open: World[] = [];
  after(async () => {
    for (const w of open) await w.close();
  });
  const fresh = async (opts: Parameters<typeof world>[1] = {}) => {
    const w = await world(dialect, opts);
    open.push(w);
    return w;
  };

  test('under the built-in policy an agent claiming its call is read-only still waits for a person', async () => {
    const w = await fresh();
    const r = await call(w, 'POST', '/v1/actions?redeem=true', w.keys.agent, SELF_APPROVAL);
    assert.equal(r.status, 201);
    assert.equal(r.body.status, 'pending');
    assert.equal(r.body.receipt ?? null, null);
    assert.equal(r.body.redeemed_at ?? null, null);
  });

  test('a read-only call from an agent the operator vouches for passes at once', async () => {
    const w = await fresh({ trustAnnotationsOf: ['deployer'] });
    const r = await propose(w, { tool: 'read_file', arguments: { path: '/etc/motd' }, annotations: { readOnlyHint: true } });
    assert.equal(r.body.status, 'approved');
    assert.equal(r.body.policy.rule, 'trusted-reads-pass');
  });

  test('vouching for one agent does not extend to another agent', async () => {
    const w = await fresh({ trustAnnotationsOf: ['deployer'] });
    const r = await propose(w, { tool: 'read_file', arguments: {}, annotations: { readOnlyHint: true } }, w.keys.otherAgent);
    assert.equal(r.body.status, 'pending');
  });

  test('trust limited to some resources covers calls to those and no others', async () => {
    const w = await fresh({ config: withPolicy('policy:\n  trust_annotations:\n    - agent: deployer\n      resources: [filesystem]\n') });
    const fs = await propose(w, { tool: 'read_file', arguments: {}, resource: 'filesystem', annotations: { readOnlyHint: true } });
    assert.equal(fs.body.status, 'approved');
    const other = await propose(w, { tool: 'read_file', arguments: {}, resource: 'shell', annotations: { readOnlyHint: true } });
    assert.equal(other.body.status, 'pending');
    const none = await propose(w, { tool: 'read_file', arguments: {}, annotations: { readOnlyHint: true } });
    assert.equal(none.body.status, 'pending');
  });

  test('a policy sees the trust as annotations_trusted, and a trusted agent without the hint still waits', async () => {
    const w = await fresh({
      config: withPolicy(`
policy:
  trust_annotations: [deployer]
  rules:
    - name: trusted-non-destructive
      when: annotations_trusted && annotations.destructiveHint == false
      effect: allow
`),
    });
    const trusted = await propose(w, { tool: 'x', arguments: {}, annotations: { destructiveHint: false } });
    assert.equal(trusted.body.status, 'approved');
    const untrusted = await propose(w, { tool: 'x', arguments: {}, annotations: { destructiveHint: false } }, w.keys.otherAgent);
    assert.equal(untrusted.body.status, 'pending');
    const noHint = await propose(w, { tool: 'x', arguments: {} });
    assert.equal(noHint.body.status, 'pending', 'the spec default destructiveHint is true');
  });

  test('a policy section without rules keeps the built-in rules, so trusting the proxy is one line', async () => {
    const w = await fresh({ config: withPolicy('policy:\n  trust_annotations: [deployer]\n') });
    const r = await propose(w, { tool: 'read_file', arguments: {}, annotations: { readOnlyHint: true } });
    assert.equal(r.body.status, 'approved');
  });

  test('the trust decided at proposal is kept in the decision record and audited with it', async () => {
    const w = await fresh({ trustAnnotationsOf: ['deployer'] });
    const { body } = await propose(w, { tool: 'read_file', arguments: {}, annotations: { readOnlyHint: true } });
    const row = await selectActionRows(w.gw.deps.db.read).where('id', '=', body.id).executeTakeFirstOrThrow();
    assert.equal(JSON.parse(row.policy).annotations_trusted, true);
    const added = await addAgent(w.gw.deps, ADMIN, { name: 'newcomer', owner: 'bob@example.com' });
    const pending = await propose(w, { tool: 'read_file', arguments: {}, annotations: { readOnlyHint: true } }, added.apiKey);
    const row2 = await selectActionRows(w.gw.deps.db.read).where('id', '=', pending.body.id).executeTakeFirstOrThrow();
    assert.equal(JSON.parse(row2.policy).annotations_trusted, false);
  });
});
