import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { addPeople, call, cliEnvFor, forEachDialect, propose, runCli, type World, withPolicy, world } from './helpers.js';

const POLICY = `
policy:
  default: review
workflows:
  default:
    stages:
      - approvers: { groups: [sre] }
`;

forEachDialect('voting for someone from the CLI', (dialect) => {
  const open: World[] = [];
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
  });

  test('approve --for and deny --for cast the vote for the delegator; without it the refusal names them', async () => {
    const w = await world(dialect, { listen: true, config: withPolicy(POLICY) });
    open.push(w);
    const k = await addPeople(w, [{ email: 'xavier@example.com' }, { email: 'yara@example.com', groups: ['sre'] }]);
    const ends = new Date(w.gw.deps.clock.now() + 3600_000).toISOString();
    assert.equal(
      (await call(w, 'POST', '/v1/me/delegations', k['yara@example.com'], { delegate: 'xavier@example.com', ends_at: ends })).status,
      201,
    );
    const env = { ...cliEnvFor(w), COUNTERSIGN_URL: w.gw.url, COUNTERSIGN_KEY: k['xavier@example.com'] as string };
    const { body: a } = await propose(w);
    const { body: b } = await propose(w, { arguments: { env: 'staging' } });

    const refused = await runCli(['approve', a.id], env);
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /you may vote for yara@example\.com/);

    const approved = await runCli(['approve', a.id, '--for', 'yara@example.com'], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(approved.stdout, `approved ${a.id} for yara@example.com\n`);
    const denied = await runCli(['deny', b.id, '--reason', 'not today', '--for', 'yara@example.com'], env);
    assert.equal(denied.code, 0, denied.stderr);
    assert.equal(denied.stdout, `denied ${b.id} for yara@example.com\n`);
    for (const id of [a.id, b.id]) {
      const [vote] = (await call(w, 'GET', `/v1/actions/${id}`, w.keys.ada)).body.reviews;
      assert.deepEqual([vote.reviewer.email, vote.for.email], ['xavier@example.com', 'yara@example.com']);
    }
  });
});
