import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import type { Principal } from '../src/domain/identities/principal.js';
import { defineRoute, type RouteAuth, registerRoutes } from '../src/http/route-spec.js';
import { buildServer } from '../src/http/server.js';
import { auditRows, call, forEachDialect, propose, review, type World, world } from './helpers.js';

forEachDialect('who may call a route', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect);
  });
  after(async () => w.close());

  test('a vote’s review record and audit entry say it came over the API, with the key that cast it', async () => {
    const { body: a } = await propose(w, { tool: 'deploy', arguments: {} });
    await review(w, a.id, w.keys.alice, { decision: 'approve' });
    const got = (await call(w, 'GET', `/v1/actions/${a.id}`, w.keys.alice)).body;
    assert.equal(got.reviews[0].channel, 'api');
    const reviewed = (await auditRows(w, a.id)).find((e) => e.event === 'action.reviewed');
    const data = JSON.parse(String(reviewed?.data));
    assert.equal(data.channel, 'api');
    assert.deepEqual(data.auth, { kind: 'api_key', key_prefix: w.keys.alice.slice(0, 15) });
  });
});

test('a route declared for agents, people or admins refuses every other caller with 403, and none is refused 401 without a key', async () => {
  const w = await world('sqlite');
  try {
    const seen: Record<string, Principal | null> = {};
    const routes = (['none', 'agent', 'person', 'admin', 'any'] as RouteAuth[]).map((auth) =>
      defineRoute({
        method: 'GET',
        url: `/test/route-auth/${auth}`,
        operationId: `routeAuth_${auth}`,
        summary: auth,
        tags: ['test'],
        auth,
        query: z.object({}),
        responses: { 200: { description: 'ok' } },
        handler: async ({ principal }) => {
          seen[auth] = principal as Principal | null;
          return { ok: true };
        },
      }),
    );
    // A server of the gateway's own making (its error mapping), with these routes added before it starts.
    const app = buildServer(w.gw.deps);
    registerRoutes(app, w.gw.deps, routes);
    const callers = {
      anonymous: undefined,
      agent: w.keys.agent,
      viewer: w.keys.victor,
      reviewer: w.keys.alice,
      admin: w.keys.ada,
    } as const;
    const expected: Record<RouteAuth, Record<keyof typeof callers, number>> = {
      none: { anonymous: 200, agent: 200, viewer: 200, reviewer: 200, admin: 200 },
      agent: { anonymous: 401, agent: 200, viewer: 403, reviewer: 403, admin: 403 },
      person: { anonymous: 401, agent: 403, viewer: 200, reviewer: 200, admin: 200 },
      admin: { anonymous: 401, agent: 403, viewer: 403, reviewer: 403, admin: 200 },
      any: { anonymous: 401, agent: 200, viewer: 200, reviewer: 200, admin: 200 },
    };
    for (const [auth, row] of Object.entries(expected)) {
      for (const [who, status] of Object.entries(row)) {
        const key = callers[who as keyof typeof callers];
        const r = await app.inject({
          method: 'GET',
          url: `/test/route-auth/${auth}`,
          headers: key ? { authorization: `Bearer ${key}` } : {},
        });
        assert.equal(r.statusCode, status, `${who} calling a route for ${auth}`);
      }
    }
    assert.equal(seen.none, null, 'a route for anyone gets no principal, not a pretend one');
    assert.equal(seen.admin?.type, 'user');
    await app.close();
  } finally {
    await w.close();
  }
});
