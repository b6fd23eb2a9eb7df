/*
 * The Teams bot's messaging endpoint refuses what Bot Framework would not have sent: a missing or forged
 * token, a key the metadata does not publish or does not endorse for msteams, another issuer or audience,
 * an expired token (past the 5 min skew), a token for another serviceUrl, another tenant, an untrusted
 * service URL; nothing is decided and nothing is stored. And the rules every channel keeps: the person an
 * action acts for cannot approve it, a step-up stage shows only "Open in console".
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../src/lib/clock.js';
import { call, forEachDialect, propose, type World, withPolicy, world } from './helpers.js';
import { activity, drawn, invoke, linkTeams, TEAMS_PEOPLE as P, toBot, verbsOf, withTeams } from './teams-helpers.js';
import { TeamsStandIn } from './teams-standin.js';

const POLICY = `
policy:
  default: review
  rules:
    - name: risky
      when: tool == "drop_table"
      effect: review
      workflow: risky
workflows:
  risky:
    stages:
      - name: strong
        approvers: { roles: [reviewer] }
        step_up: { max_age: 5m }
`;

forEachDialect('Teams inbound activities', (dialect) => {
  let w: World;
  let standin: TeamsStandIn;
  let actionId = '';

  before(async () => {
    standin = new TeamsStandIn();
    await standin.start();
    w = await world(dialect, { clock: new FakeClock(), config: (c) => withTeams(standin)(withPolicy(POLICY)(c)) });
    for (const p of [P.alice, P.carol]) await linkTeams(w, p);
    actionId = (await propose(w, { arguments: { n: 1 } })).body.id;
  });
  after(async () => {
    await w.close();
    await standin.close();
  });

  const now = () => w.gw.deps.clock.now();
  const approveBy = (p = P.alice) => invoke(standin, p, 'approve', { actionId });
  const untouched = async () => {
    const action = await call(w, 'GET', `/v1/actions/${actionId}`, w.keys.ada);
    assert.equal(action.body.status, 'pending');
    assert.equal(action.body.reviews.length, 0);
    const convs = await w.gw.deps.db.read.selectFrom('teams_conversations').select('id').execute();
    assert.equal(convs.length, 0, 'nothing learned from a refused activity');
  };

  test('no token, a malformed one, or a Countersign API key: 401, nothing decided', async () => {
    const body = approveBy();
    for (const authorization of [undefined, 'Bearer not.a.jwt', `Bearer ${w.keys.alice}`, 'Basic abc']) {
      const res = await w.gw.app.inject({
        method: 'POST',
        url: '/teams/messages',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        payload: JSON.stringify(body),
      });
      assert.equal(res.statusCode, 401, String(authorization));
    }
    await untouched();
  });

  test('a key the metadata does not publish, or publishes without the msteams endorsement: 401', async () => {
    const serviceUrl = standin.serviceUrl;
    assert.equal((await toBot(w, standin, approveBy(), await standin.sign(now(), serviceUrl, { key: 'unknown' }))).status, 401);
    const unendorsed = await toBot(w, standin, approveBy(), await standin.sign(now(), serviceUrl, { key: 'unendorsed' }));
    assert.equal(unendorsed.status, 401);
    assert.match(unendorsed.body.error.message, /endorsed/);
    await untouched();
  });

  test('another issuer, another audience, or another serviceUrl claim: 401', async () => {
    const s = standin.serviceUrl;
    assert.equal(
      (await toBot(w, standin, approveBy(), await standin.sign(now(), s, { issuer: 'https://sts.windows.net/evil/' }))).status,
      401,
    );
    assert.equal((await toBot(w, standin, approveBy(), await standin.sign(now(), s, { audience: 'another-bot' }))).status, 401);
    const moved = await toBot(
      w,
      standin,
      approveBy(),
      await standin.sign(now(), s, { serviceUrl: 'https://smba.trafficmanager.net/emea/' }),
    );
    assert.equal(moved.status, 401);
    assert.match(moved.body.error.message, /serviceUrl/);
    await untouched();
  });

  test('a token expired more than five minutes ago is refused; within the skew it is accepted', async () => {
    const s = standin.serviceUrl;
    const stale = await toBot(w, standin, approveBy(), await standin.sign(now(), s, { expiresInS: -6 * 60 }));
    assert.equal(stale.status, 401);
    await untouched();
    const hello = activity(standin, P.carol, { type: 'conversationUpdate' });
    const skewed = await toBot(w, standin, hello, await standin.sign(now(), s, { expiresInS: -4 * 60 }));
    assert.equal(skewed.status, 200);
    await w.gw.deps.db.write.deleteFrom('teams_conversations').execute();
  });

  test('another tenant, or an activity from a service URL outside the allow list, is refused (403) with a valid token', async () => {
    const other = approveBy();
    other.channelData = { tenant: { id: '11111111-2222-4333-8444-555555555555' } };
    other.conversation = { ...other.conversation, tenantId: '11111111-2222-4333-8444-555555555555' };
    assert.equal((await toBot(w, standin, other)).status, 403);
    const elsewhere = { ...approveBy(), serviceUrl: 'https://attacker.example/' };
    assert.equal((await toBot(w, standin, elsewhere)).status, 403);
    await untouched();
  });

  test('the person an action acts for sees no buttons and cannot approve through Teams', async () => {
    const id = (await propose(w, { arguments: { n: 2 }, on_behalf_of: P.carol.email })).body.id;
    const view = await toBot(w, standin, invoke(standin, P.carol, 'refresh', { actionId: id }));
    assert.deepEqual(verbsOf(view.body.value), []);
    const res = await toBot(w, standin, invoke(standin, P.carol, 'approve', { actionId: id }));
    assert.match(drawn(res.body.value), /Not recorded/);
    const action = await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada);
    assert.equal(action.body.status, 'pending');
    assert.equal(action.body.reviews.length, 0);
  });

  test('a stage that needs a strong sign-in shows only "Open in console"; an approve from a stale card is refused', async () => {
    const id = (await propose(w, { tool: 'drop_table', arguments: { table: 'users' } })).body.id;
    const view = await toBot(w, standin, invoke(standin, P.alice, 'refresh', { actionId: id }));
    assert.deepEqual(verbsOf(view.body.value), []);
    assert.match(drawn(view.body.value), /strong sign-in/);
    const titles = (view.body.value.actions as { title: string }[]).map((a) => a.title);
    assert.deepEqual(titles, ['Open in console']);
    const res = await toBot(w, standin, invoke(standin, P.alice, 'approve', { actionId: id }));
    assert.match(drawn(res.body.value), /Not recorded/);
    assert.equal((await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body.status, 'pending');
  });

  test('an invoke the bot does not know, or card data that is not ours, is answered with an error, never a vote', async () => {
    const weird = invoke(standin, P.alice, 'approve', { actionId });
    (weird as unknown as { value: { action: { verb: string } } }).value.action.verb = 'approve_all';
    const res = await toBot(w, standin, weird);
    assert.equal(res.status, 200);
    assert.equal(res.body.statusCode, 400);
    assert.equal(res.body.type, 'application/vnd.microsoft.error');
    const other = await toBot(w, standin, { ...invoke(standin, P.alice, 'approve', { actionId }), name: 'task/fetch' });
    assert.equal(other.body.statusCode, 400);
    const action = await call(w, 'GET', `/v1/actions/${actionId}`, w.keys.ada);
    assert.equal(action.body.reviews.length, 0);
  });
});
