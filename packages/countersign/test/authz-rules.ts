import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RouteAuth } from '../src/http/route-spec.js';
import { defaultConsoleDist } from '../src/http/routes/console.js';
import { type Fixtures, IDP_ISSUER } from './authz-fixtures.js';
import { PASSWORD } from './session-helpers.js';

/** The matrix's rules (see authz-matrix.test.ts): what each route needs and who may call it. */

export const POLICY = `
policy:
  default: review
  rules:
    - name: reads
      when: tool == "read"
      effect: allow
`;

export interface Request {
  url: string;
  body?: unknown;
  /** Event streams are held open: read over real HTTP, status only. */
  stream?: boolean;
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

/** Well-formed WebAuthn answers to no ceremony the gateway started. */
const CLIENT_DATA = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: 'bm90IGEgY2hhbGxlbmdl', origin: 'http://x' })).toString(
  'base64url',
);
const FAKE_REGISTRATION = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  response: { clientDataJSON: CLIENT_DATA, attestationObject: 'AAAA' },
  clientExtensionResults: {},
};
const FAKE_ASSERTION = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  response: { clientDataJSON: CLIENT_DATA, authenticatorData: 'AAAA', signature: 'AAAA' },
  clientExtensionResults: {},
};

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
  auditChainStatus: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/audit/head' }) },
  verifyAudit: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/audit/verify', body: {} }) },
  exportAudit: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/audit/export' }) },
  getStats: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/stats?bucket=hour' }) },
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
  listAuditExportSinks: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/admin/audit-export' }) },
  // No sink has run here: an admin gets past authorization to "not found"; everyone else is refused before.
  forgetAuditExportSink: { auth: 'admin', ok: 404, request: async () => ({ url: '/v1/admin/audit-export/retired/forget' }) },
  // No dead letter exists here: an admin gets past authorization to "not found"; everyone else is refused before.
  replayDeadLetter: {
    auth: 'admin',
    ok: 404,
    request: async () => ({ url: '/v1/admin/dead-letters/0190a000-0000-7000-8000-000000000000/replay' }),
  },
  createWebhook: {
    auth: 'admin',
    ok: 201,
    request: async (f) => ({
      url: '/v1/admin/webhooks',
      body: { url: `https://192.0.2.1/${f.unique()}`, event_types: ['policy.activated'] },
    }),
  },
  listWebhooks: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/admin/webhooks' }) },
  disableWebhook: { auth: 'admin', ok: 200, request: async (f) => ({ url: `/v1/admin/webhooks/${await f.webhook()}/disable` }) },
  enableWebhook: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/webhooks/${await f.webhook({ disabled: true })}/enable` }),
  },
  rotateWebhookSecret: { auth: 'admin', ok: 200, request: async (f) => ({ url: `/v1/admin/webhooks/${await f.webhook()}/rotate-secret` }) },
  // The guard refuses the documentation address: the answer is the logged (failed) delivery.
  testWebhook: { auth: 'admin', ok: 200, request: async (f) => ({ url: `/v1/admin/webhooks/${await f.webhook()}/test` }) },
  listWebhookDeliveries: { auth: 'admin', ok: 200, request: async (f) => ({ url: `/v1/admin/webhooks/${await f.webhook()}/deliveries` }) },
  getPolicy: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy' }) },
  listPolicyVersions: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/versions' }) },
  getPolicyVersion: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/versions/1' }) },
  // The document in force again: compiled, compared, nothing written (200), so later cells keep the same policy.
  applyPolicy: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/versions', body: { document: POLICY } }) },
  rollbackPolicy: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/rollback', body: { version: 1 } }) },
  // Decides or replays without writing anything.
  evaluatePolicy: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/evaluate', body: { action: { tool: 'deploy' } } }) },
  replayPolicy: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/policy/replay', body: { candidate: POLICY, limit: 10 } }) },
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
  adminListLinkedIdentities: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: `/v1/admin/users/${(await f.linkedPerson()).email}/identities` }),
  },
  adminLinkIdentity: {
    auth: 'admin',
    ok: 201,
    request: async (f) => ({ url: `/v1/admin/users/${await f.person()}/identities`, body: { subject: f.unique(), issuer: IDP_ISSUER } }),
  },
  adminUnlinkIdentity: {
    auth: 'admin',
    ok: 200,
    request: async (f) => {
      const p = await f.linkedPerson();
      return { url: `/v1/admin/users/${p.email}/identities/unlink`, body: { subject: p.subject, issuer: p.issuer } };
    },
  },
  // Chat-account links: a preview is for whoever holds the token; only a browser session confirms (API keys: 403).
  previewChatLink: {
    auth: 'none',
    ok: 200,
    request: async (f) => ({ url: '/v1/chat-links/preview', body: { token: await f.chatLinkToken() } }),
  },
  confirmChatLink: {
    auth: 'person',
    ok: 403,
    except: { reviewerSession: 200, adminSession: 200 },
    request: async (f) => ({ url: '/v1/me/chat-links/confirm', body: { token: await f.chatLinkToken() } }),
  },
  listMyChatLinks: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/me/chat-links' }) },
  // The chat account is alice's: only alice (key or session) unlinks it; to anyone else it is not linked to them.
  unlinkMyChatAccount: {
    auth: 'person',
    ok: 404,
    except: { reviewer: 200, reviewerSession: 200 },
    request: async (f) => ({ url: '/v1/me/chat-links/unlink', body: await f.aliceChatAccount() }),
  },
  adminListChatLinks: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/admin/users/alice@example.com/chat-links' }) },
  adminUnlinkChatAccount: {
    auth: 'admin',
    ok: 200,
    request: async (f) => ({ url: '/v1/admin/users/alice@example.com/chat-links/unlink', body: await f.aliceChatAccount() }),
  },
  consoleLinkChat: { auth: 'none', ok: 200, request: async () => ({ url: '/link-chat' }) },
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
  listNotificationDeliveries: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/admin/deliveries' }) },
  // Email decision links are their own credential: no key or cookie changes anything. An unknown link is
  // answered in words (410 on the page, 403 on the POST) to everyone alike.
  emailDecisionPage: { auth: 'none', ok: 410, request: async () => ({ url: `/email/decision?token=${'A'.repeat(43)}` }) },
  emailDecide: { auth: 'none', ok: 403, request: async () => ({ url: '/email/decision', body: { token: 'A'.repeat(43) } }) },
  // Slack's interactivity URL: signed by Slack, never by a key or cookie; with the channel off it does not exist.
  slackInteraction: { auth: 'none', ok: 404, request: async () => ({ url: '/slack/interactions', body: {} }) },
  // No Teams bot on the matrix's gateway: the endpoint answers 404 to everyone (a Countersign key is never a Bot Framework token).
  teamsMessages: { auth: 'none', ok: 404, request: async () => ({ url: '/teams/messages', body: { type: 'message' } }) },
  setupPage: { auth: 'none', ok: 200, request: async () => ({ url: '/setup' }) },
  resetPasswordPage: { auth: 'none', ok: 200, request: async () => ({ url: '/reset-password' }) },
  // Passkeys. The matrix's gateway is reached at an IP address, which no browser accepts as a WebAuthn rp id:
  // every ceremony start answers 400 (saying so), as does every ceremony end with a made-up credential.
  // API keys never run a ceremony (400: passkeys are managed from a browser session).
  startPasskeyRegistration: { auth: 'person', ok: 400, request: async () => ({ url: '/v1/me/passkeys/options' }) },
  registerPasskey: { auth: 'person', ok: 400, request: async () => ({ url: '/v1/me/passkeys', body: { credential: FAKE_REGISTRATION } }) },
  listMyPasskeys: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/me/passkeys' }) },
  // The passkey is alice's: only alice (key or session) renames it; to anyone else it does not exist.
  renameMyPasskey: {
    auth: 'person',
    ok: 404,
    except: { reviewer: 200, reviewerSession: 200 },
    request: async (f) => ({ url: `/v1/me/passkeys/${await f.passkey()}/rename`, body: { name: 'Phone' } }),
  },
  // Removing needs a recently signed-in session (keys: 400); alice's session removes it, ada's finds none of hers.
  removeMyPasskey: {
    auth: 'person',
    ok: 400,
    except: { reviewerSession: 200, adminSession: 404 },
    request: async (f) => ({ url: `/v1/me/passkeys/${await f.passkey()}/remove` }),
  },
  startPasskeyReauthentication: { auth: 'person', ok: 400, request: async () => ({ url: '/v1/me/reauthenticate/passkey/options' }) },
  finishPasskeyReauthentication: {
    auth: 'person',
    ok: 400,
    request: async () => ({ url: '/v1/me/reauthenticate/passkey/verify', body: { credential: FAKE_ASSERTION } }),
  },
  adminListPasskeys: { auth: 'admin', ok: 200, request: async (f) => ({ url: `/v1/admin/users/${await f.person()}/passkeys` }) },
  adminRemovePasskey: {
    auth: 'admin',
    ok: 200,
    request: async (f) => {
      const email = await f.person();
      return { url: `/v1/admin/users/${email}/passkeys/${await f.passkey(email)}/remove` };
    },
  },
  // An unknown pending sign-in is refused (401) whoever sends it.
  signInWithPasskey: {
    auth: 'none',
    ok: 401,
    request: async () => ({ url: '/v1/auth/login/passkey', body: { pending_token: 'A'.repeat(43), credential: FAKE_ASSERTION } }),
  },
  // Single sign-on is not configured in the matrix's world: both OIDC routes answer 404 to everyone.
  oidcLogin: { auth: 'none', ok: 404, request: async () => ({ url: '/v1/auth/oidc/login' }) },
  oidcCallback: { auth: 'none', ok: 404, request: async () => ({ url: '/v1/auth/oidc/callback?code=c&state=s' }) },
  listMyDelegations: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/me/delegations' }) },
  // A viewer has no vote to delegate (400); everyone else names a fresh reviewer for a day.
  createMyDelegation: {
    auth: 'person',
    ok: 201,
    except: { viewer: 400 },
    request: async (f) => ({ url: '/v1/me/delegations', body: { delegate: await f.person(), ends_at: f.tomorrow() } }),
  },
  // The delegation is alice's: alice (key or session) or an admin ends it; to anyone else it does not exist.
  revokeDelegation: {
    auth: 'person',
    ok: 404,
    except: { reviewer: 200, reviewerSession: 200, admin: 200, adminSession: 200 },
    request: async (f) => ({ url: `/v1/me/delegations/${await f.aliceDelegation()}/revoke` }),
  },
  adminListDelegations: { auth: 'admin', ok: 200, request: async () => ({ url: '/v1/admin/delegations' }) },
  adminCreateDelegation: {
    auth: 'admin',
    ok: 201,
    request: async (f) => ({
      url: '/v1/admin/delegations',
      body: { delegator: await f.person(), delegate: await f.person(), ends_at: f.tomorrow() },
    }),
  },
  // The reviewer console's inbox and action view: for people (a viewer sees what waits, and cannot decide).
  getInbox: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/inbox' }) },
  getInboxItem: { auth: 'person', ok: 200, request: async (f) => ({ url: `/v1/inbox/${await f.pending()}` }) },
  getReviewSettings: { auth: 'person', ok: 200, request: async () => ({ url: '/v1/review-settings' }) },
  // The console's pages and files are public (the page's script then signs in); the built console must exist.
  signInMethods: { auth: 'none', ok: 200, request: async () => ({ url: '/v1/auth/methods' }) },
  consoleHome: { auth: 'none', ok: 200, request: async () => ({ url: '/' }) },
  consoleInbox: { auth: 'none', ok: 200, request: async () => ({ url: '/inbox' }) },
  consoleAction: { auth: 'none', ok: 200, request: async (f) => ({ url: `/actions/${await f.pending()}` }) },
  consoleSignIn: { auth: 'none', ok: 200, request: async () => ({ url: '/sign-in?return_to=/inbox' }) },
  // The page itself is public like every console page; the policy API it calls is for admins (rules above).
  consolePolicy: { auth: 'none', ok: 200, request: async () => ({ url: '/admin/policy' }) },
  consolePolicyPlayground: { auth: 'none', ok: 200, request: async () => ({ url: '/admin/policy/playground' }) },
  consoleHistory: { auth: 'none', ok: 200, request: async () => ({ url: '/history' }) },
  consoleDashboard: { auth: 'none', ok: 200, request: async () => ({ url: '/dashboard' }) },
  consoleAudit: { auth: 'none', ok: 200, request: async () => ({ url: '/audit' }) },
  consoleAsset: { auth: 'none', ok: 200, request: async () => ({ url: `/assets/${consoleAssetName()}` }) },
  // The account and administration pages are the same public index.html: what they show comes from the API,
  // which refuses a non-admin's administration calls whatever page made them.
  consoleAccount: { auth: 'none', ok: 200, request: async () => ({ url: '/account' }) },
  consoleAdminPeople: { auth: 'none', ok: 200, request: async () => ({ url: '/admin/people' }) },
  consoleAdminGroups: { auth: 'none', ok: 200, request: async () => ({ url: '/admin/groups' }) },
  consoleAdminAgents: { auth: 'none', ok: 200, request: async () => ({ url: '/admin/agents' }) },
  consoleAdminKeys: { auth: 'none', ok: 200, request: async () => ({ url: '/admin/keys' }) },
  consoleAdminGrants: { auth: 'none', ok: 200, request: async () => ({ url: '/admin/grants' }) },
};

/** A file the console build wrote (its names are content hashes). */
function consoleAssetName(): string {
  const dist = defaultConsoleDist();
  const name = dist === undefined ? undefined : readdirSync(join(dist, 'assets')).find((n) => n.endsWith('.js'));
  if (name === undefined) throw new Error('the console is not built: npm run build -w @countersign/console');
  return name;
}
