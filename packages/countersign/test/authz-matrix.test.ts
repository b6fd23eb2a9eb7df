import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addPerson } from '../src/domain/identities/add-user.js';
import { disableAgent } from '../src/domain/identities/disable-agent.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { issueKey } from '../src/domain/identities/issue-key.js';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import type { RouteAuth } from '../src/http/route-spec.js';
import { ROUTES } from '../src/http/server.js';
import { ADMIN, addPeople, forEachDialect, type World, withPolicy, world } from './helpers.js';

/**
 * The authorization matrix: every route of the route table (ROUTES) × every kind of caller, each cell
 * run on fresh fixtures and its status compared with the expected one. The expectation is derived from
 * the route's declared `auth` (none / agent / person / admin / any) and the per-route rules written
 * down in RULES below (what the domain adds: viewers do not review, an agent sees only its own
 * actions…). An "escape" is a 2xx where a refusal was expected; there must be none, and every cell
 * must match exactly. A route added to the table without an entry in RULES fails the test.
 */

const POLICY = `
policy:
  default: review
  rules:
    - name: reads
      when: tool == "read"
      effect: allow
`;

type CallerKind = 'anonymous' | 'bad' | 'agent' | 'person';

/** How a caller authenticates: headers, so credentials other than API keys (session cookies) slot in. */
interface Caller {
  name: string;
  kind: CallerKind;
  role?: 'admin' | 'reviewer' | 'viewer';
  headers: Record<string, string>;
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The world's cast plus the people the matrix needs: the on_behalf_of person, a disabled person, a revoked key. */
async function callersOf(w: World): Promise<Caller[]> {
  const d = w.gw.deps;
  const extra = await addPeople(w, [{ email: 'obo@example.com' }, { email: 'gone@example.com' }, { email: 'dan@example.com' }]);
  await disableUser(d, ADMIN, 'gone@example.com');
  const revoked = await issueKey(d, ADMIN, { for: 'alice@example.com', label: 'to revoke' });
  await revokeKey(d, ADMIN, revoked.keyPrefix);
  return [
    { name: 'anonymous', kind: 'anonymous', headers: {} },
    { name: 'agent', kind: 'agent', headers: bearer(w.keys.agent) },
    { name: 'otherAgent', kind: 'agent', headers: bearer(w.keys.otherAgent) },
    { name: 'viewer', kind: 'person', role: 'viewer', headers: bearer(w.keys.victor) },
    { name: 'reviewer', kind: 'person', role: 'reviewer', headers: bearer(w.keys.alice) },
    { name: 'admin', kind: 'person', role: 'admin', headers: bearer(w.keys.ada) },
    { name: 'owner', kind: 'person', role: 'reviewer', headers: bearer(w.keys.bob) },
    { name: 'onBehalfOf', kind: 'person', role: 'reviewer', headers: bearer(extra['obo@example.com'] as string) },
    { name: 'disabledPerson', kind: 'bad', headers: bearer(extra['gone@example.com'] as string) },
    { name: 'revokedKey', kind: 'bad', headers: bearer(revoked.apiKey) },
    ...(await EXTRA_CALLERS(w)),
  ];
}

/**
 * Extension point: callers with other credentials (browser sessions: a reviewer's session, an admin's
 * session, a disabled person's session, each with its cookie and CSRF header) are added here once
 * sessions land. Each needs only `kind`, `role` and `headers`; the expectations follow from them.
 */
async function EXTRA_CALLERS(_w: World): Promise<Caller[]> {
  return [];
}

interface Request {
  url: string;
  body?: unknown;
  /** Event streams are held open: read over real HTTP, status only. */
  stream?: boolean;
}

/** Fresh fixtures for one cell, so no cell sees another's effects. */
class Fixtures {
  private n = 0;
  constructor(private readonly w: World) {}
  unique(): string {
    this.n += 1;
    return `m${this.n}`;
  }
  private async post(url: string, key: string, body: unknown): Promise<{ id: string; receipt: string; batch_id: string }> {
    const res = await this.w.gw.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(key), 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    assert.ok(res.statusCode < 300, `fixture ${url}: ${res.statusCode} ${res.body}`);
    return JSON.parse(res.body);
  }
  /** A pending deploy by "deployer" (owned by bob), on behalf of obo. */
  async pending(): Promise<string> {
    const a = await this.post('/v1/actions', this.w.keys.agent, {
      tool: 'deploy',
      arguments: { n: this.unique() },
      on_behalf_of: 'obo@example.com',
    });
    return a.id;
  }
  async batch(): Promise<string> {
    const b = await this.post('/v1/actions/batch', this.w.keys.agent, {
      actions: [{ tool: 'deploy', arguments: { n: this.unique() }, on_behalf_of: 'obo@example.com' }],
    });
    return b.batch_id;
  }
  /** Approved by policy, receipt not yet redeemed. */
  async approved(): Promise<{ id: string; receipt: string; args: Record<string, string> }> {
    const args = { n: this.unique() };
    const a = await this.post('/v1/actions', this.w.keys.agent, { tool: 'read', arguments: args });
    return { id: a.id, receipt: a.receipt, args };
  }
  /** Approved and redeemed in one request: the agent may report its result. */
  async redeemed(): Promise<string> {
    return (await this.post('/v1/actions?redeem=true', this.w.keys.agent, { tool: 'read', arguments: { n: this.unique() } })).id;
  }
  /** A standing grant created by carol (a reviewer who is not one of the callers). */
  async grant(): Promise<string> {
    const id = await this.pending();
    await this.post(`/v1/actions/${id}/reviews`, this.w.keys.carol, { decision: 'approve', grant: {} });
    // Ids are time-ordered: the newest grant is the one just made.
    const g = await this.w.gw.deps.db.read.selectFrom('grants').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
    return g.id;
  }
  async person(opts: { disabled?: boolean } = {}): Promise<string> {
    const email = `${this.unique()}@example.com`;
    await addPerson(this.w.gw.deps, ADMIN, { email, role: 'reviewer' });
    if (opts.disabled) await disableUser(this.w.gw.deps, ADMIN, email);
    return email;
  }
  async agent(opts: { disabled?: boolean } = {}): Promise<string> {
    const name = `agent-${this.unique()}`;
    await addAgent(this.w.gw.deps, ADMIN, { name, owner: 'dan@example.com' });
    if (opts.disabled) await disableAgent(this.w.gw.deps, ADMIN, name);
    return name;
  }
  async keyPrefix(): Promise<string> {
    return (await issueKey(this.w.gw.deps, ADMIN, { for: 'dan@example.com' })).keyPrefix;
  }
}

interface Rule {
  /** Who may call the route, written down here independently of the route table, so a route whose declared auth is widened fails. */
  auth: RouteAuth;
  /** The status the allowed callers get. */
  ok: number;
  /** Per-caller exceptions to what the route's `auth` implies (by caller name). */
  except?: Record<string, number>;
  request(f: Fixtures): Promise<Request>;
}

const REVIEW_EXCEPTIONS = { viewer: 403, owner: 403, onBehalfOf: 403 };

/** What each route needs and what the domain adds to its declared auth; keyed by operationId. */
const RULES: Record<string, Rule> = {
  proposeBatch: {
    auth: 'agent',
    ok: 201,
    request: async (f) => ({ url: '/v1/actions/batch', body: { actions: [{ tool: 'deploy', arguments: { n: f.unique() } }] } }),
  },
  getBatch: {
    auth: 'any',
    ok: 200,
    except: { otherAgent: 404 },
    request: async (f) => ({ url: `/v1/batches/${await f.batch()}` }),
  },
  reviewBatch: {
    auth: 'person',
    ok: 200,
    except: REVIEW_EXCEPTIONS,
    request: async (f) => ({ url: `/v1/batches/${await f.batch()}/reviews`, body: { decision: 'approve' } }),
  },
  proposeAction: {
    auth: 'agent',
    ok: 201,
    request: async (f) => ({ url: '/v1/actions', body: { tool: 'deploy', arguments: { n: f.unique() } } }),
  },
  getAction: {
    auth: 'any',
    ok: 200,
    except: { otherAgent: 404 },
    request: async (f) => ({ url: `/v1/actions/${await f.pending()}` }),
  },
  listActions: {
    auth: 'any',
    ok: 200,
    request: async () => ({ url: '/v1/actions' }),
  },
  reviewAction: {
    auth: 'person',
    ok: 200,
    except: REVIEW_EXCEPTIONS,
    request: async (f) => ({ url: `/v1/actions/${await f.pending()}/reviews`, body: { decision: 'approve' } }),
  },
  cancelAction: {
    auth: 'agent',
    ok: 200,
    except: { otherAgent: 404 },
    request: async (f) => ({ url: `/v1/actions/${await f.pending()}/cancel`, body: {} }),
  },
  reportResult: {
    auth: 'agent',
    ok: 200,
    except: { otherAgent: 404 },
    request: async (f) => ({ url: `/v1/actions/${await f.redeemed()}/result`, body: { outcome: 'succeeded' } }),
  },
  listGrants: {
    auth: 'any',
    ok: 200,
    request: async () => ({ url: '/v1/grants' }),
  },
  // Only the grant's creator (carol, not a caller here) or an admin may end it.
  revokeGrant: {
    auth: 'person',
    ok: 200,
    except: { viewer: 403, reviewer: 403, owner: 403, onBehalfOf: 403 },
    request: async (f) => ({ url: `/v1/grants/${await f.grant()}/revoke`, body: {} }),
  },
  jwks: {
    auth: 'none',
    ok: 200,
    request: async () => ({ url: '/.well-known/jwks.json' }),
  },
  // Another agent's receipt fails verification (its audience is the agent it was issued to): receipt_invalid, 400.
  redeemReceipt: {
    auth: 'agent',
    ok: 200,
    except: { otherAgent: 400 },
    request: async (f) => {
      const a = await f.approved();
      return { url: '/v1/receipts/redeem', body: { receipt: a.receipt, action: { id: a.id, tool: 'read', arguments: a.args } } };
    },
  },
  latestAuditCheckpoint: {
    auth: 'any',
    ok: 200,
    request: async () => ({ url: '/v1/audit/checkpoints/latest' }),
  },
  listAudit: {
    auth: 'person',
    ok: 200,
    request: async () => ({ url: '/v1/audit' }),
  },
  streamEvents: {
    auth: 'any',
    ok: 200,
    request: async () => ({ url: '/v1/events', stream: true }),
  },
  health: {
    auth: 'none',
    ok: 200,
    request: async () => ({ url: '/healthz' }),
  },
  ready: {
    auth: 'none',
    ok: 200,
    request: async () => ({ url: '/readyz' }),
  },
  metrics: {
    auth: 'none',
    ok: 200,
    request: async () => ({ url: '/metrics' }),
  },
  whoami: {
    auth: 'any',
    ok: 200,
    request: async () => ({ url: '/v1/me' }),
  },
  listEventConsumers: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/admin/consumers' }) },
  listDeadLetters: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/admin/dead-letters' }) },
  // No dead letter exists here: an admin gets past authorization to "not found"; everyone else is refused before.
  replayDeadLetter: {
    auth: 'admin',
    ok: 404,
    request: async () => ({ url: '/v1/admin/dead-letters/0190a000-0000-7000-8000-000000000000/replay' }),
  },
  getPolicy: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy' }) },
  listPolicyVersions: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/versions' }) },
  getPolicyVersion: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/versions/1' }) },
  // The document in force again: compiled, compared, nothing written (200), so later cells keep the same policy.
  applyPolicy: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/versions', body: { document: POLICY } }) },
  rollbackPolicy: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/rollback', body: { version: 1 } }) },
  adminListUsers: {
    auth: 'admin',
    ok: 200,
    request: async () => ({ url: '/v1/admin/users' }),
  },
  adminCreateUser: {
    auth: 'admin',
    ok: 201,
    request: async (f) => ({ url: '/v1/admin/users', body: { email: `${f.unique()}@example.com` } }),
  },
  adminSetUserRole: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/users/${await f.person()}/role`, body: { role: 'viewer' } }),
  },
  adminSetUserGroups: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/users/${await f.person()}/groups`, body: { groups: ['sre'] } }),
  },
  adminDisableUser: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/users/${await f.person()}/disable` }),
  },
  adminEnableUser: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/users/${await f.person({ disabled: true })}/enable` }),
  },
  adminIssueUserKey: {
    auth: 'admin',
    ok: 201,
    request: async (f) => ({ url: `/v1/admin/users/${await f.person()}/keys`, body: {} }),
  },
  adminListGroups: {
    auth: 'admin',
    ok: 200,
    request: async () => ({ url: '/v1/admin/groups' }),
  },
  adminCreateGroup: {
    auth: 'admin',
    ok: 201,
    request: async (f) => ({ url: '/v1/admin/groups', body: { name: `g-${f.unique()}` } }),
  },
  adminListAgents: {
    auth: 'admin',
    ok: 200,
    request: async () => ({ url: '/v1/admin/agents' }),
  },
  adminCreateAgent: {
    auth: 'admin',
    ok: 201,
    request: async (f) => ({ url: '/v1/admin/agents', body: { name: `agent-${f.unique()}`, owner: 'dan@example.com' } }),
  },
  adminDisableAgent: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/agents/${await f.agent()}/disable`, body: {} }),
  },
  adminEnableAgent: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/agents/${await f.agent({ disabled: true })}/enable` }),
  },
  adminIssueAgentKey: {
    auth: 'admin',
    ok: 201,
    request: async (f) => ({ url: `/v1/admin/agents/${await f.agent()}/keys`, body: {} }),
  },
  adminListKeys: {
    auth: 'admin',
    ok: 200,
    request: async () => ({ url: '/v1/admin/keys' }),
  },
  adminRevokeKey: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/keys/${await f.keyPrefix()}/revoke` }),
  },
};

/** Whether the route's declared auth lets this kind of caller through to the handler. */
function admitted(auth: RouteAuth, c: Caller): boolean {
  switch (auth) {
    case 'none':
      return true;
    case 'any':
      return c.kind === 'agent' || c.kind === 'person';
    case 'agent':
      return c.kind === 'agent';
    case 'person':
      return c.kind === 'person';
    case 'admin':
      return c.kind === 'person' && c.role === 'admin';
  }
}

/** The expected status of one cell: 401 without valid credentials, 403 for the wrong kind, else the rule's. */
function expectedStatus(rule: Rule, c: Caller): number {
  const auth = rule.auth;
  if (auth === 'none') return rule.ok;
  if (c.kind === 'anonymous' || c.kind === 'bad') return 401;
  if (!admitted(auth, c)) return 403;
  return rule.except?.[c.name] ?? rule.ok;
}

async function send(w: World, method: string, req: Request, c: Caller): Promise<number> {
  const headers: Record<string, string> = { ...c.headers };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  if (req.stream) {
    const abort = new AbortController();
    const res = await fetch(`${w.gw.url}${req.url}`, { headers: { ...headers, accept: 'text/event-stream' }, signal: abort.signal });
    abort.abort();
    await res.body?.cancel().catch(() => undefined);
    return res.status;
  }
  const res = await w.gw.app.inject({
    method: method as 'GET' | 'POST',
    url: req.url,
    headers,
    ...(req.body === undefined ? {} : { payload: JSON.stringify(req.body) }),
  });
  return res.statusCode;
}

forEachDialect('authorization matrix', (dialect) => {
  let w: World;
  let callers: Caller[];
  before(async () => {
    w = await world(dialect, { listen: true, config: withPolicy(POLICY) });
    callers = await callersOf(w);
    // A signed checkpoint exists, so the checkpoint route answers 200 to whoever may read it.
    await w.gw.checkpointer.checkpointNow();
  });
  after(async () => w.close());

  test('every route in the route table has a rule, and every rule a route', () => {
    const ids = ROUTES.map((r) => r.operationId).sort();
    assert.deepEqual(Object.keys(RULES).sort(), ids);
  });

  test('every route declares the auth this table says it needs', () => {
    const differ = ROUTES.filter((r) => RULES[r.operationId] && RULES[r.operationId]?.auth !== r.auth).map(
      (r) => `${r.operationId}: declared ${r.auth}, expected ${RULES[r.operationId]?.auth}`,
    );
    assert.deepEqual(differ, []);
  });

  test('every route answers every kind of caller with the expected status, and nothing is let through that should be refused', async (t) => {
    const f = new Fixtures(w);
    const mismatches: string[] = [];
    const escapes: string[] = [];
    let cells = 0;
    for (const route of ROUTES) {
      const rule = RULES[route.operationId];
      if (!rule) continue; // reported by the test above
      const row: string[] = [];
      for (const c of callers) {
        const want = expectedStatus(rule, c);
        const got = await send(w, route.method, await rule.request(f), c);
        cells += 1;
        row.push(`${c.name}=${got}`);
        if (got !== want) mismatches.push(`${route.method} ${route.url} as ${c.name}: expected ${want}, got ${got}`);
        if (got < 300 && want >= 400) escapes.push(`${route.method} ${route.url} as ${c.name}`);
      }
      t.diagnostic(`${route.auth.padEnd(6)} ${route.method} ${route.url}: ${row.join(' ')}`);
    }
    t.diagnostic(`${cells} cells, ${escapes.length} escapes, ${mismatches.length} mismatches`);
    assert.deepEqual(escapes, [], 'no caller gets a 2xx where a refusal is expected');
    assert.deepEqual(mismatches, []);
    assert.equal(cells, ROUTES.length * callers.length);
  });
});
