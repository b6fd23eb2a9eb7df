import assert from 'node:assert/strict';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addPerson } from '../src/domain/identities/add-user.js';
import { disableAgent } from '../src/domain/identities/disable-agent.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { issueKey } from '../src/domain/identities/issue-key.js';
import { issueResetLink } from '../src/domain/identities/links/issue-reset-link.js';
import { createSession } from '../src/domain/identities/sessions/create-session.js';
import type { RouteAuth } from '../src/http/route-spec.js';
import { ADMIN, type World } from './helpers.js';
import { ORIGIN, PASSWORD, tokenOf, withPassword } from './session-helpers.js';

/** The matrix's rules and fixtures (see authz-matrix.test.ts): what each route needs and who may call it. */

export const POLICY = `
policy:
  default: review
  rules:
    - name: reads
      when: tool == "read"
      effect: allow
`;

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export interface Request {
  url: string;
  body?: unknown;
  /** Event streams are held open: read over real HTTP, status only. */
  stream?: boolean;
}

/** Fresh fixtures for one cell, so no cell sees another's effects. */
export class Fixtures {
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
  /** The token of a live password reset link for a fresh person. */
  async resetToken(): Promise<string> {
    const link = await issueResetLink(this.w.gw.deps, ADMIN, await this.person(), new URL(ORIGIN));
    return tokenOf(link.url);
  }
  private signer?: string;
  /** A person with a password (set once through a reset link), for sign-in cells. */
  async signerEmail(): Promise<string> {
    if (!this.signer) {
      this.signer = await this.person();
      await withPassword(this.w, this.signer);
    }
    return this.signer;
  }
  /** A live session of alice's (the reviewer), opened as a sign-in does: its id, for the revoke cells. */
  async aliceSession(): Promise<string> {
    const d = this.w.gw.deps;
    const u = await d.db.read.selectFrom('users').select('id').where('email', '=', 'alice@example.com').executeTakeFirstOrThrow();
    const s = await d.committer.run((tx) =>
      createSession(tx, d.config, { userId: u.id, method: 'password', strongAt: null, userAgent: null, ip: null }),
    );
    return s.id;
  }
  async keyPrefix(): Promise<string> {
    return (await issueKey(this.w.gw.deps, ADMIN, { for: 'dan@example.com' })).keyPrefix;
  }
}

export interface Rule {
  /** Who may call the route, written down here independently of the route table, so a route whose declared auth is widened fails. */
  auth: RouteAuth;
  /** The status the allowed callers get. */
  ok: number;
  /** Per-caller exceptions to what the route's `auth` implies (by caller name). */
  except?: Record<string, number>;
  request(f: Fixtures): Promise<Request>;
  /** The cell ends the caller's own session (sign-out): a session caller brings a fresh one of its own. */
  endsSession?: boolean;
}

/** Everyone who authenticates with an API key: sign-out is for browser sessions (400). */
const KEY_PEOPLE = { viewer: 400, reviewer: 400, admin: 400, owner: 400, onBehalfOf: 400 };

const REVIEW_EXCEPTIONS = { viewer: 403, owner: 403, onBehalfOf: 403 };

/** What each route needs and what the domain adds to its declared auth; keyed by operationId. */
export const RULES: Record<string, Rule> = {
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
    except: { viewer: 403, reviewer: 403, owner: 403, onBehalfOf: 403, reviewerSession: 403 },
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
  // Sign-in and link redemption are open to anyone (no auth): a cookie or key sent along changes nothing.
  signIn: {
    auth: 'none',
    ok: 200,
    request: async (f) => ({ url: '/v1/auth/login', body: { email: await f.signerEmail(), password: PASSWORD } }),
  },
  // An admin exists, so `serve` issues no setup link; an unknown link is refused (401) whoever sends it.
  completeSetup: {
    auth: 'none',
    ok: 401,
    request: async () => ({
      url: '/v1/auth/setup',
      body: { token: 'A'.repeat(43), email: 'root@example.com', password: PASSWORD },
    }),
  },
  resetPassword: {
    auth: 'none',
    ok: 200,
    request: async (f) => ({ url: '/v1/auth/reset-password', body: { token: await f.resetToken(), password: PASSWORD } }),
  },
  signOut: {
    auth: 'person',
    ok: 200,
    except: KEY_PEOPLE,
    endsSession: true,
    request: async () => ({ url: '/v1/auth/logout' }),
  },
  listMySessions: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/me/sessions' }) },
  // The session is alice's: only alice (key or session) ends it; to anyone else it does not exist.
  revokeMySession: {
    auth: 'person',
    ok: 404,
    except: { reviewer: 200, reviewerSession: 200 },
    request: async (f) => ({ url: `/v1/me/sessions/${await f.aliceSession()}/revoke` }),
  },
  issuePasswordResetLink: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: '/v1/admin/password-reset-links', body: { email: await f.person() } }),
  },
  setupPage: { auth: 'none', ok: 200, request: async () => ({ url: '/setup' }) },
  resetPasswordPage: { auth: 'none', ok: 200, request: async () => ({ url: '/reset-password' }) },
  // Single sign-on is not configured in the matrix's world: both OIDC routes answer 404 to everyone.
  oidcLogin: { auth: 'none', ok: 404, request: async () => ({ url: '/v1/auth/oidc/login' }) },
  oidcCallback: { auth: 'none', ok: 404, request: async () => ({ url: '/v1/auth/oidc/callback?code=c&state=s' }) },
};
