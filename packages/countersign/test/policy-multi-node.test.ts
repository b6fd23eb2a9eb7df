import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import pino from 'pino';
import type { Config } from '../src/config/schema.js';
import { readAfter } from '../src/events/outbox.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { childEnv, exits } from './cli-serve-helpers.js';
import { EXAMPLE } from './fixtures/policies.js';
import { auditRows, call, forEachDialect, PG_URL, propose, runCli, type World, withPolicy, world } from './helpers.js';

const STRICT = `
policy:
  rules:
    - name: no-deploys
      when: tool == "deploy"
      effect: deny
      reason: deploy freeze
`;

/** Another gateway process on the same database as `w` (its own pool, bus and policy store). */
async function secondNode(w: World, opts: { config?: (c: Config) => Config; policyCheckMs?: number } = {}): Promise<Gateway> {
  const config = opts.config ? opts.config(w.env.config) : w.env.config;
  return startGateway(config, {
    listen: false,
    ...(opts.policyCheckMs ? { policyCheckMs: opts.policyCheckMs } : {}),
    logger: pino({ level: 'silent' }),
    ...(w.env.schema ? { schema: w.env.schema } : {}),
  });
}

/** `w` answered by another node: the same people and keys, another gateway. */
const on = (w: World, gw: Gateway): World => ({ ...w, gw });

/** Waits for a condition that background work makes true; bounded so a regression fails instead of hanging. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

async function activations(w: World) {
  return (await auditRows(w)).filter((e) => e.event === 'policy.activated');
}

/** `countersign ARGS` on the world's database, as an admin at the gateway host would run it. */
function cli(w: World, args: string[]) {
  const env = childEnv(
    w.env.schema === undefined
      ? {}
      : {
          COUNTERSIGN_DATABASE_URL: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${w.env.schema}`)}`,
        },
  );
  return runCli([...args, '--data', w.env.config.dataDir], env);
}

forEachDialect('one policy for all nodes', (dialect) => {
  let w: World;
  let nodes: Gateway[] = [];
  const node = async (opts: Parameters<typeof secondNode>[1] = {}) => {
    const gw = await secondNode(w, opts);
    nodes.push(gw);
    return gw;
  };
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-policy-nodes-'));
    writeFileSync(join(dir, 'strict.yaml'), STRICT);
    writeFileSync(join(dir, 'countersign.yaml'), `server: { port: 9999 }\n${EXAMPLE}`);
    writeFileSync(join(dir, 'bad.yaml'), 'policy:\n  rules:\n    - { name: typo, when: "tool ==", effect: deny }\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const gw of nodes) await gw.close();
    nodes = [];
    await w.close();
  });

  async function start() {
    w = await world(dialect, { config: withPolicy(EXAMPLE) });
  }

  test('a policy applied on node A is in force on node B at its next one-second check', async () => {
    await start();
    // Only the check can switch B here: nothing feeds A's events to B's bus in this test.
    const b = await node();
    assert.equal(b.deps.policy.version, 1);
    const applied = await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: STRICT });
    assert.equal(applied.status, 201);
    await until(() => b.deps.policy.version === 2, 'node B switched to version 2');
    const r = await propose(on(w, b), { tool: 'deploy', arguments: { env: 'staging' } });
    assert.equal(r.body.status, 'denied');
    assert.equal(r.body.policy.rule, 'no-deploys');
    assert.equal(r.body.policy.hash, applied.body.version.hash);
    assert.deepEqual((await call(on(w, b), 'GET', '/v1/policy', w.keys.ada)).body.serving, { version: 2, hash: applied.body.version.hash });
  });

  test("a policy.activated event on a node's bus switches it at once, without waiting for the check", async () => {
    await start();
    // An hour between checks: only the event can switch B within this test.
    const b = await node({ policyCheckMs: 3_600_000 });
    await call(w, 'POST', '/v1/policy/versions', w.keys.ada, { document: STRICT });
    // What the cross-node feed does with another node's event: publish it on this node's bus.
    const events = (await readAfter(w.gw.deps.db.read, 0)).filter((e) => e.type === 'policy.activated');
    assert.equal(events.length, 2, 'the seed and the apply');
    b.deps.bus.publish(events);
    await until(() => b.deps.policy.version === 2, 'node B switched on the event');
  });

  test('two nodes with different config files no longer alternate: both decide with the database version, and a restart does not flip it', async () => {
    await start();
    const seeded = w.gw.deps.policy.current.hash;
    const b = await node({ config: withPolicy(STRICT) });
    assert.equal(b.deps.policy.current.hash, seeded, 'B follows the database, not its file');
    assert.equal(b.deps.policy.version, 1);
    for (const gw of [w.gw, b]) {
      const r = await propose(on(w, gw), { tool: 'deploy', arguments: { env: 'production' } });
      assert.equal(r.body.workflow.name, 'two-sres');
      assert.equal(r.body.policy.hash, seeded);
    }
    await b.close();
    nodes = [];
    const b2 = await node({ config: withPolicy(STRICT) });
    assert.equal(b2.deps.policy.current.hash, seeded);
    const seen = await activations(w);
    assert.equal(seen.length, 1, 'only the seed: no node wrote its own file back');
    assert.equal(JSON.parse(seen[0]?.data ?? '{}').trigger, 'start');
  });

  test('with policy_source: file a restarted node applies its file as a new version, once', async () => {
    await start();
    const fileWins = (c: Config) => ({ ...withPolicy(STRICT)(c), policySource: 'file' as const });
    const b = await node({ config: fileWins });
    assert.equal(b.deps.policy.version, 2);
    assert.equal((await propose(on(w, b), { tool: 'deploy', arguments: {} })).body.status, 'denied');
    await b.close();
    nodes = [];
    const b2 = await node({ config: fileWins });
    assert.equal(b2.deps.policy.version, 2, 'the same file again is not a change');
    const seen = (await activations(w)).map((e) => JSON.parse(e.data));
    assert.deepEqual(
      seen.map((d) => [d.version, d.trigger]),
      [
        [1, 'start'],
        [2, 'start'],
      ],
    );
  });

  test('concurrent applies on two nodes never both replace the same version', async () => {
    await start();
    const b = await node();
    const raced = await Promise.all(
      [w.gw, b].map((gw, i) =>
        call(on(w, gw), 'POST', '/v1/policy/versions', w.keys.ada, {
          document: i === 0 ? STRICT : `${STRICT}\n# b`.replace('freeze', 'stop'),
          expected_version: 1,
        }),
      ),
    );
    assert.deepEqual(raced.map((r) => r.status).sort(), [201, 409]);
    const queued = await Promise.all(
      [w.gw, b].map((gw, i) =>
        call(on(w, gw), 'POST', '/v1/policy/versions', w.keys.ada, { document: EXAMPLE.replace('1h', `${i + 2}h`) }),
      ),
    );
    assert.deepEqual(queued.map((r) => [r.body.version.version, r.body.previous_version]).sort(), [
      [3, 2],
      [4, 3],
    ]);
  });

  test('a policy applied through the CLI is audited, listed in history, in force on running nodes, and rolled back as a new version', async () => {
    await start();
    const b = await node();
    const refused = exits(await cli(w, ['policy', 'apply', join(dir, 'bad.yaml')]), 2);
    assert.match(refused.stderr, /typo/);
    assert.equal((await activations(w)).length, 1, 'a refused document writes nothing');

    const applied = exits(await cli(w, ['policy', 'apply', join(dir, 'strict.yaml'), '--note', 'release freeze']), 0);
    assert.match(applied.stdout, /^version 2 is now the active policy \(was version 1\): [0-9a-f]{12}/);
    const audit = (await activations(w)).at(-1);
    assert.equal(audit?.actor_type, 'admin');
    assert.match(audit?.actor_id ?? '', /^cli:/);
    assert.equal(JSON.parse(audit?.data ?? '{}').note, 'release freeze');
    await until(() => w.gw.deps.policy.version === 2 && b.deps.policy.version === 2, 'both nodes switched');
    for (const gw of [w.gw, b]) assert.equal((await propose(on(w, gw), { tool: 'deploy', arguments: {} })).body.policy.rule, 'no-deploys');

    const again = exits(await cli(w, ['policy', 'apply', join(dir, 'strict.yaml')]), 0);
    assert.match(again.stdout, /^unchanged: version 2 /);
    const whole = exits(await cli(w, ['policy', 'apply', join(dir, 'countersign.yaml'), '--if-version', '1']), 6);
    assert.match(whole.stderr, /version 2, not 1/);

    const rolled = exits(await cli(w, ['policy', 'rollback', '1', '--note', 'freeze lifted']), 0);
    assert.match(rolled.stdout, /^version 3 is now the active policy \(was version 2\)/);
    const history = exits(await cli(w, ['policy', 'history']), 0);
    const lines = history.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /VERSION\s+HASH\s+APPLIED\s+BY\s+TRIGGER\s+NOTE/);
    assert.match(lines[1] ?? '', /^\*\s+3\s+[0-9a-f]{12}\s+\S+\s+cli:\S+\s+rollback to 1\s+freeze lifted$/);
    assert.match(lines[2] ?? '', /^\s+2\s+[0-9a-f]{12}\s+\S+\s+cli:\S+\s+apply\s+release freeze$/);
    assert.match(lines[3] ?? '', /^\s+1\s+[0-9a-f]{12}\s+\S+\s+system\s+start\s+/);
    const shown = exits(await cli(w, ['policy', 'show', '2']), 0);
    assert.equal(shown.stdout, `${STRICT.trimEnd()}\n`);
    const fromWhole = exits(await cli(w, ['policy', 'apply', join(dir, 'countersign.yaml')]), 0);
    assert.match(fromWhole.stderr, /ignoring server/);
    assert.match(fromWhole.stdout, /^unchanged: version 3 /, 'the file holds the seeded policy, which version 3 restored');
    assert.doesNotMatch(exits(await cli(w, ['policy', 'show']), 0).stdout, /9999/, 'other sections never reach the history');
  });
});
