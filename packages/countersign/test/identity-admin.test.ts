import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { disableAgent } from '../src/domain/identities/disable-agent.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { enableAgent } from '../src/domain/identities/enable-agent.js';
import { enableUser } from '../src/domain/identities/enable-user.js';
import { issueKey } from '../src/domain/identities/issue-key.js';
import { listAgents } from '../src/domain/identities/list-agents.js';
import { listKeys } from '../src/domain/identities/list-keys.js';
import { listUsers } from '../src/domain/identities/list-users.js';
import { setUserGroups } from '../src/domain/identities/set-user-groups.js';
import { setUserRole } from '../src/domain/identities/set-user-role.js';
import { CsError, type ErrorCode } from '../src/lib/errors.js';
import { ADMIN, auditRows, call, forEachDialect, type World, world } from './helpers.js';

const fails = (code: ErrorCode) => (e: unknown) => e instanceof CsError && e.code === code;

forEachDialect('offboarding verbs', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });
  async function setup() {
    const w = await world(dialect);
    open.push(w);
    return w;
  }
  async function lastAudit(w: World) {
    const rows = await auditRows(w);
    const last = rows.at(-1);
    assert.ok(last);
    return { event: last.event, actor: [last.actor_type, last.actor_id], data: JSON.parse(last.data) };
  }

  test('a person or agent named with a control character (a NUL, say) in the admin API path is not found, never a 500', async () => {
    const w = await setup();
    for (const url of [
      '/v1/admin/agents/%00/enable',
      '/v1/admin/agents/dep%00loyer/disable',
      '/v1/admin/users/%00/disable',
      '/v1/admin/users/a%01b/role',
    ]) {
      const res = await call(w, 'POST', url, w.keys.ada, url.endsWith('/role') ? { role: 'viewer' } : undefined);
      assert.equal(res.status, 404, `${url}: ${JSON.stringify(res.body)}`);
    }
  });

  test('disabling and enabling a person is audited, names the agents they own, refuses a repeat and an unknown person', async () => {
    const w = await setup();
    const r = await disableUser(w.gw.deps, ADMIN, 'Carol@Example.com');
    assert.deepEqual(r.ownedAgents, ['other-agent'], 'the agents she owns are named: they keep working');
    const a = await lastAudit(w);
    assert.deepEqual([a.event, a.actor, a.data.email], ['user.disabled', ['admin', 'test'], 'carol@example.com']);
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.carol)).status, 401);
    await assert.rejects(() => disableUser(w.gw.deps, ADMIN, 'carol@example.com'), fails('conflict'));
    await assert.rejects(() => disableUser(w.gw.deps, ADMIN, 'nobody@example.com'), fails('not_found'));
    await enableUser(w.gw.deps, ADMIN, 'carol@example.com');
    assert.equal((await lastAudit(w)).event, 'user.enabled');
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.carol)).status, 200);
    await assert.rejects(() => enableUser(w.gw.deps, ADMIN, 'carol@example.com'), fails('conflict'));
  });

  test('a role change is audited with both roles and applies on the next request; an unknown role or no change is refused', async () => {
    const w = await setup();
    await setUserRole(w.gw.deps, ADMIN, { email: 'alice@example.com', role: 'viewer' });
    assert.deepEqual((await lastAudit(w)).data, { user_id: w.ids.alice, email: 'alice@example.com', from: 'reviewer', to: 'viewer' });
    assert.equal((await call(w, 'GET', '/v1/me', w.keys.alice)).body.role, 'viewer');
    await assert.rejects(() => setUserRole(w.gw.deps, ADMIN, { email: 'alice@example.com', role: 'viewer' }), fails('conflict'));
    await assert.rejects(
      () => setUserRole(w.gw.deps, ADMIN, { email: 'alice@example.com', role: 'root' as 'viewer' }),
      fails('invalid_request'),
    );
    await assert.rejects(() => setUserRole(w.gw.deps, ADMIN, { email: 'nobody@example.com', role: 'admin' }), fails('not_found'));
  });

  test('a group change replaces the set, is audited, and refuses bad names, no change and an unknown person', async () => {
    const w = await setup();
    await setUserGroups(w.gw.deps, ADMIN, { email: 'alice@example.com', groups: ['sre', 'oncall', 'sre'] });
    assert.deepEqual((await lastAudit(w)).data.to, ['oncall', 'sre']);
    assert.deepEqual((await call(w, 'GET', '/v1/me', w.keys.alice)).body.groups, ['oncall', 'sre']);
    await assert.rejects(
      () => setUserGroups(w.gw.deps, ADMIN, { email: 'alice@example.com', groups: ['sre', 'oncall'] }),
      fails('conflict'),
    );
    await assert.rejects(
      () => setUserGroups(w.gw.deps, ADMIN, { email: 'alice@example.com', groups: ['no spaces'] }),
      fails('invalid_request'),
    );
    await assert.rejects(() => setUserGroups(w.gw.deps, ADMIN, { email: 'nobody@example.com', groups: [] }), fails('not_found'));
  });

  test('disabling and enabling an agent is audited, refuses a repeat and an unknown agent', async () => {
    const w = await setup();
    const r = await disableAgent(w.gw.deps, ADMIN, 'other-agent');
    assert.deepEqual(r.cancelled, []);
    const a = await lastAudit(w);
    assert.deepEqual([a.event, a.data.name, a.data.reason], ['agent.disabled', 'other-agent', 'the agent was disabled']);
    await assert.rejects(() => disableAgent(w.gw.deps, ADMIN, 'other-agent'), fails('conflict'));
    await assert.rejects(() => disableAgent(w.gw.deps, ADMIN, 'no-such-agent'), fails('not_found'));
    await assert.rejects(() => disableAgent(w.gw.deps, ADMIN, 'deployer', 'x'.repeat(1001)), fails('invalid_request'));
    await enableAgent(w.gw.deps, ADMIN, w.ids.otherAgent);
    assert.equal((await lastAudit(w)).event, 'agent.enabled');
    await assert.rejects(() => enableAgent(w.gw.deps, ADMIN, 'other-agent'), fails('conflict'));
  });

  test('a new key for an existing person or agent works at once and is audited; a disabled or unknown one gets none', async () => {
    const w = await setup();
    const k = await issueKey(w.gw.deps, ADMIN, { for: 'alice@example.com', label: 'ci' });
    assert.deepEqual((await lastAudit(w)).data, { prefix: k.keyPrefix, principal_type: 'user', principal_id: w.ids.alice, label: 'ci' });
    assert.equal((await call(w, 'GET', '/v1/me', k.apiKey)).body.email, 'alice@example.com');
    const forAgent = await issueKey(w.gw.deps, ADMIN, { for: 'deployer' });
    assert.equal((await call(w, 'GET', '/v1/me', forAgent.apiKey)).body.id, w.ids.agent);
    await disableUser(w.gw.deps, ADMIN, 'carol@example.com');
    await assert.rejects(() => issueKey(w.gw.deps, ADMIN, { for: 'carol@example.com' }), fails('conflict'));
    await assert.rejects(() => issueKey(w.gw.deps, ADMIN, { for: 'nobody@example.com' }), fails('not_found'));
    await assert.rejects(() => issueKey(w.gw.deps, ADMIN, { for: '' }), fails('invalid_request'));
  });

  test('the lists show every person, agent and key with their state, never a secret', async () => {
    const w = await setup();
    await disableUser(w.gw.deps, ADMIN, 'victor@example.com');
    await disableAgent(w.gw.deps, ADMIN, 'other-agent');
    // Several people can share a creation millisecond; the order within one is by email, so compare sorted.
    const users = (await listUsers(w.gw.deps)).sort((a, b) => a.email.localeCompare(b.email));
    assert.deepEqual(
      users.map((u) => [u.email, u.role, u.disabled, u.active_keys]),
      [
        ['ada@example.com', 'admin', false, 1],
        ['alice@example.com', 'reviewer', false, 1],
        ['bob@example.com', 'reviewer', false, 1],
        ['carol@example.com', 'reviewer', false, 1],
        ['victor@example.com', 'viewer', true, 1],
      ],
    );
    assert.deepEqual((await listAgents(w.gw.deps)).map((a) => [a.name, a.owner, a.disabled]).sort(), [
      ['deployer', 'bob@example.com', false],
      ['other-agent', 'carol@example.com', true],
    ]);
    const keys = await listKeys(w.gw.deps, 'deployer');
    assert.deepEqual(
      keys.map((k) => [k.principal_type, k.principal, k.revoked_at]),
      [['agent', 'deployer', null]],
    );
    assert.equal(JSON.stringify(await listKeys(w.gw.deps)).includes(w.keys.agent.slice(16)), false);
    await assert.rejects(() => listKeys(w.gw.deps, 'nobody@example.com'), fails('not_found'));
  });
});
