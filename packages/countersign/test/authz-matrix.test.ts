import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { issueKey } from '../src/domain/identities/issue-key.js';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import type { RouteAuth } from '../src/http/route-spec.js';
import { ROUTES } from '../src/http/server.js';
import { bearer, Fixtures } from './authz-fixtures.js';
import { POLICY, type Request, RULES, type Rule } from './authz-rules.js';
import { ADMIN, addPeople, forEachDialect, type World, withPolicy, world } from './helpers.js';
import { browserCall, browserFrom, fastPasswords, login, withPassword } from './session-helpers.js';

/**
 * The authorization matrix: every route of the route table (ROUTES) × every kind of caller, each cell
 * run on fresh fixtures and its status compared with the expected one. The expectation is derived from
 * the route's declared `auth` (none / agent / person / admin / any) and the per-route rules written
 * down in RULES (authz-rules.ts; what the domain adds: viewers do not review, an agent sees only its own
 * actions…). An "escape" is a 2xx where a refusal was expected; there must be none, and every cell
 * must match exactly. A route added to the table without an entry in RULES fails the test.
 */

type CallerKind = 'anonymous' | 'bad' | 'agent' | 'person';

/** How a caller authenticates: headers, so credentials other than API keys (session cookies) slot in. */
interface Caller {
  name: string;
  kind: CallerKind;
  role?: 'admin' | 'reviewer' | 'viewer';
  headers: Record<string, string>;
  /** A browser session that sends no CSRF token: its cookie-authenticated writes are refused (403). */
  noCsrf?: boolean;
  /** For cells that end the caller's own session: the headers of a fresh session of the same person. */
  freshSession?: () => Promise<Record<string, string>>;
}

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
 * Extension point: callers with other credentials. Browser sessions, opened by the real flows (a reset
 * link redeemed, then sign-in): alice's and ada's, each with its cookies, CSRF header and same Origin;
 * alice's without the CSRF header; one signed out (revoked); a disabled person's. Expectations follow from `kind`/`role`.
 */
async function EXTRA_CALLERS(w: World): Promise<Caller[]> {
  const alice = await withPassword(w, 'alice@example.com');
  const ada = await withPassword(w, 'ada@example.com');
  const signIn = async (email: string) => browserFrom(await login(w, email));
  const noCsrf = await signIn('alice@example.com');
  const { 'x-csrf-token': _dropped, ...noCsrfHeaders } = noCsrf.headers;
  const revoked = await signIn('alice@example.com');
  assert.equal((await browserCall(w, revoked, 'POST', '/v1/auth/logout')).status, 200);
  // Disabling a person must end their sessions too, not only their keys.
  await addPeople(w, [{ email: 'leaver@example.com' }]);
  const leaver = await withPassword(w, 'leaver@example.com');
  await disableUser(w.gw.deps, ADMIN, 'leaver@example.com');
  return [
    {
      name: 'reviewerSession',
      kind: 'person',
      role: 'reviewer',
      headers: alice.headers,
      freshSession: async () => (await signIn('alice@example.com')).headers,
    },
    {
      name: 'adminSession',
      kind: 'person',
      role: 'admin',
      headers: ada.headers,
      freshSession: async () => (await signIn('ada@example.com')).headers,
    },
    { name: 'reviewerNoCsrf', kind: 'person', role: 'reviewer', headers: noCsrfHeaders, noCsrf: true },
    { name: 'revokedSession', kind: 'bad', headers: revoked.headers },
    { name: 'disabledSession', kind: 'bad', headers: leaver.headers },
  ];
}

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
function expectedStatus(rule: Rule, method: string, c: Caller): number {
  const auth = rule.auth;
  if (auth === 'none') return rule.ok;
  if (c.kind === 'anonymous' || c.kind === 'bad') return 401;
  if (!admitted(auth, c)) return 403;
  if (c.noCsrf && method !== 'GET') return 403;
  return rule.except?.[c.name] ?? rule.ok;
}

async function send(w: World, method: string, req: Request, c: Caller, endsSession: boolean): Promise<number> {
  const headers: Record<string, string> = { ...(endsSession && c.freshSession ? await c.freshSession() : c.headers) };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  if (req.stream) {
    // Over real HTTP the Host is the listener's own (a GET needs no Origin).
    const { host: _host, origin: _origin, ...streamHeaders } = headers;
    const abort = new AbortController();
    const res = await fetch(`${w.gw.url}${req.url}`, { headers: { ...streamHeaders, accept: 'text/event-stream' }, signal: abort.signal });
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
    w = await world(dialect, { listen: true, config: (c) => withPolicy(POLICY)(fastPasswords(c)) });
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
        const want = expectedStatus(rule, route.method, c);
        const got = await send(w, route.method, await rule.request(f), c, rule.endsSession === true);
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
