import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Tool } from '@modelcontextprotocol/client';
import { DEFAULT_DENY_REASONS, loadConfig } from '../src/config/load.js';
import { FakeClock } from '../src/lib/clock.js';
import { Catalogue } from '../src/mcp/catalogue.js';
import { toProposal } from '../src/mcp/classify.js';
import { PinStore } from '../src/mcp/pins.js';
import type { UpstreamSpec } from '../src/mcp/settings.js';
import type { Upstream } from '../src/mcp/upstream.js';
import { auditRows, call, forEachDialect, propose, review, type World, withPolicy, world } from './helpers.js';
import { tempDir } from './mcp-helpers.js';

/**
 * Deciding in full, on the gateway: edits checked against the MCP tool's declared input schema, the
 * inbox filtered by workflow and age, and the console's review settings (deny reasons, grant bounds).
 */

const MIN = 60_000;
const POLICY = `
policy:
  default: review
  rules:
    - { name: prod, when: 'tool == "deploy"', effect: review, workflow: risky }
workflows:
  default:
    stages: [ { approvers: { roles: [reviewer] } } ]
  risky:
    stages: [ { approvers: { roles: [reviewer] } } ]
`;

const SCHEMA = {
  type: 'object',
  properties: { env: { enum: ['staging', 'production'] }, replicas: { type: 'integer', minimum: 1, maximum: 5 } },
  required: ['env'],
  additionalProperties: false,
};
const declared = (input_schema: unknown) => ({
  mcp: {
    server: 'ops',
    exposed_name: 'ops__scale',
    definition: 'f'.repeat(64),
    tool: { description: 'Scales', annotations: null, input_schema },
  },
});

forEachDialect('deciding in full on the gateway', (dialect) => {
  let w: World;
  const clock = new FakeClock();
  before(async () => {
    w = await world(dialect, {
      clock,
      config: (c) => ({ ...withPolicy(POLICY)(c), console: { denyReasons: ['Wrong environment', 'Use the runbook'] } }),
    });
  });
  after(async () => w.close());

  test('an edit that breaks the declared input schema is refused with each problem, and nothing is recorded', async () => {
    const { body: a } = await propose(w, { tool: 'scale', arguments: { env: 'staging', replicas: 2 }, metadata: declared(SCHEMA) });
    const res = await review(w, a.id, w.keys.alice, { decision: 'approve', arguments: { env: 'prod', replicas: 9 } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'invalid_request');
    assert.match(res.body.error.message, /do not match the tool's input schema \(as declared by the MCP proxy\): \/env/);
    assert.deepEqual(
      res.body.error.issues.map((i: { path: string }) => i.path),
      ['arguments/env', 'arguments/replicas'],
    );
    const after = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.ada)).body;
    assert.deepEqual([after.status, after.reviews.length, after.arguments], ['pending', 0, { env: 'staging', replicas: 2 }]);
    assert.equal((await auditRows(w, a.id)).filter((r) => r.event === 'action.reviewed').length, 0);
  });

  test('an edit that fits the declared schema is approved with the edited arguments', async () => {
    const { body: a } = await propose(w, { tool: 'scale', arguments: { env: 'staging', replicas: 2 }, metadata: declared(SCHEMA) });
    const res = await review(w, a.id, w.keys.alice, { decision: 'approve', arguments: { env: 'staging', replicas: 4 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.status, res.body.edited, res.body.arguments.replicas], ['approved', true, 4]);
  });

  test('without a usable declared schema (none, or one sent as its size and hash) any edit is the reviewer’s to make', async () => {
    for (const metadata of [{}, declared({ omitted: 'too long to show here', bytes: 9000, sha256: 'a'.repeat(64) })]) {
      const { body: a } = await propose(w, { tool: 'scale', arguments: { env: 'staging' }, metadata });
      const res = await review(w, a.id, w.keys.alice, { decision: 'approve', arguments: { anything: ['goes'] } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  });

  test('the inbox filters by workflow and by age, and refuses an age that is not a duration', async () => {
    const old = (await propose(w, { tool: 'deploy', arguments: { v: 'old' } })).body.id;
    await clock.advance(45 * MIN);
    const fresh = (await propose(w, { tool: 'deploy', arguments: { v: 'fresh' } })).body.id;
    const other = (await propose(w, { tool: 'restart', arguments: {} })).body.id;
    const ids = async (q: string) => {
      const res = await call(w, 'GET', `/v1/inbox${q}`, w.keys.alice);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.items.map((i: { action: { id: string } }) => i.action.id) as string[];
    };
    const risky = await ids('?workflow=risky');
    assert.ok(risky.includes(old) && risky.includes(fresh) && !risky.includes(other));
    const oldOnes = await ids('?older_than=30m');
    assert.ok(oldOnes.includes(old) && !oldOnes.includes(fresh) && !oldOnes.includes(other));
    assert.deepEqual(await ids('?workflow=risky&older_than=30m&tool=deploy'), [old]);
    assert.deepEqual(await ids('?workflow=nothing-like-it'), []);
    for (const bad of ['?older_than=soon', '?older_than=-1h', '?workflow=']) {
      const res = await call(w, 'GET', `/v1/inbox${bad}`, w.keys.alice);
      assert.equal(res.status, 400, `${bad}: ${JSON.stringify(res.body)}`);
    }
  });

  test('review settings: the configured deny reasons and grant bounds, for people only', async () => {
    const res = await call(w, 'GET', '/v1/review-settings', w.keys.victor);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      deny_reasons: ['Wrong environment', 'Use the runbook'],
      grants: { max_duration_ms: 86_400_000, max_uses: 1000 },
    });
    assert.equal((await call(w, 'GET', '/v1/review-settings', w.keys.agent)).status, 403);
    assert.equal((await call(w, 'GET', '/v1/review-settings')).status, 401);
  });
});

describe('the console’s deny reasons in the config file', () => {
  test('console.deny_reasons is read from the file; without it the defaults are offered', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'countersign.yaml');
      writeFileSync(file, 'console:\n  deny_reasons: ["Wrong environment", "  Use the runbook  "]\n');
      assert.deepEqual(loadConfig({ file, env: {}, cwd: tmp.dir }).console.denyReasons, ['Wrong environment', 'Use the runbook']);
      assert.deepEqual(loadConfig({ env: {}, cwd: tmp.dir }).console.denyReasons, [...DEFAULT_DENY_REASONS]);
      writeFileSync(file, 'console:\n  deny_reasons: [""]\n');
      assert.throws(() => loadConfig({ file, env: {}, cwd: tmp.dir }), /deny_reasons/);
    } finally {
      tmp.cleanup();
    }
  });

  test('the gateway serves the defaults when the config names none', async () => {
    const w = await world('sqlite');
    try {
      assert.deepEqual((await call(w, 'GET', '/v1/review-settings', w.keys.alice)).body.deny_reasons, [...DEFAULT_DENY_REASONS]);
    } finally {
      await w.close();
    }
  });
});

describe('the MCP proxy’s proposal', () => {
  test('carries the tool definition it is proposed against, its input schema bounded', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'pins');
      mkdirSync(dir);
      const pins = PinStore.open(join(dir, 'pins.json'));
      const small = {
        name: 'scale',
        description: 'Scales a service',
        inputSchema: SCHEMA,
        annotations: { readOnlyHint: false },
      } as unknown as Tool;
      const huge = {
        name: 'bulk',
        description: 'Big',
        inputSchema: { type: 'object', description: 'x'.repeat(10_000) },
      } as unknown as Tool;
      const spec = { name: 'ops', kind: 'stdio', command: 'x', args: [], env: {}, annotations: {}, tools: {} } as unknown as UpstreamSpec;
      const upstream = { name: 'ops', spec, currentTools: [small, huge] } as unknown as Upstream;
      const catalogue = Catalogue.build([upstream], pins, new Set(), new Date(0), () => undefined);
      const entry = catalogue.lookup('scale');
      assert.ok(entry);
      const mcp = toProposal(entry, { env: 'staging' }, 's').metadata?.mcp as Record<string, unknown>;
      assert.deepEqual(mcp.tool, { description: 'Scales a service', annotations: { readOnlyHint: false }, input_schema: SCHEMA });
      const bulk = catalogue.lookup('bulk');
      assert.ok(bulk);
      const bulkMcp = toProposal(bulk, {}, 's').metadata?.mcp as { tool: { input_schema: Record<string, unknown> } } | undefined;
      assert.equal(bulkMcp?.tool.input_schema.omitted, 'too long to show here');
    } finally {
      tmp.cleanup();
    }
  });
});
