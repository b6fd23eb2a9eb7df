import assert from 'node:assert/strict';
import { addAgent } from '../src/domain/identities/add-agent.js';
import { addPerson } from '../src/domain/identities/add-user.js';
import { linkChatAccountByEmail } from '../src/domain/identities/chat-links/link-by-email.js';
import { requestChatLink } from '../src/domain/identities/chat-links/request-chat-link.js';
import { disableAgent } from '../src/domain/identities/disable-agent.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { issueKey } from '../src/domain/identities/issue-key.js';
import { issueResetLink } from '../src/domain/identities/links/issue-reset-link.js';
import { linkIdentity } from '../src/domain/identities/oidc/link-identity.js';
import { createSession } from '../src/domain/identities/sessions/create-session.js';
import { newId } from '../src/lib/ids.js';
import { createWebhook } from '../src/notify/webhooks/create-endpoint.js';
import { disableWebhook } from '../src/notify/webhooks/set-enabled.js';
import { ADMIN, type World } from './helpers.js';
import { ORIGIN, tokenOf, withPassword } from './session-helpers.js';

/** An issuer for link cells: linking needs no reachable IdP. */
export const IDP_ISSUER = 'https://idp.example.com/realms/acme';

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

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
  /**
   * A webhook endpoint at a documentation address, which the SSRF guard refuses without any network
   * traffic; for policy activations only, which the matrix's cells do not cause, so its consumer stays idle.
   */
  async webhook(opts: { disabled?: boolean } = {}): Promise<string> {
    const { id } = await createWebhook(this.w.gw.deps, ADMIN, {
      url: `https://192.0.2.1/${this.unique()}`,
      event_types: ['policy.activated'],
    });
    if (opts.disabled) await disableWebhook(this.w.gw.deps, ADMIN, id);
    return id;
  }
  async person(opts: { disabled?: boolean } = {}): Promise<string> {
    const email = `${this.unique()}@example.com`;
    await addPerson(this.w.gw.deps, ADMIN, { email, role: 'reviewer' });
    if (opts.disabled) await disableUser(this.w.gw.deps, ADMIN, email);
    return email;
  }
  /** A fresh person with one linked identity-provider account. */
  async linkedPerson(): Promise<{ email: string; subject: string; issuer: string }> {
    const email = await this.person();
    const subject = `sub-${this.unique()}`;
    await linkIdentity(this.w.gw.deps, ADMIN, { email, subject, issuer: IDP_ISSUER });
    return { email, subject, issuer: IDP_ISSUER };
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
  /** A delegation of alice's vote (alice: the reviewer callers) to a fresh person, for a day: its id. */
  async aliceDelegation(): Promise<string> {
    const d = await this.post('/v1/me/delegations', this.w.keys.alice, { delegate: await this.person(), ends_at: this.tomorrow() });
    return d.id;
  }
  /** A fresh Slack account (team T0AUTHZ), not linked to anyone. */
  slackAccount(): { platform: 'slack'; workspace: string; user: string; display: string } {
    return { platform: 'slack', workspace: 'T0AUTHZ', user: `U${this.unique().toUpperCase()}`, display: 'someone' };
  }
  /** The token of a live request to link a fresh Slack account (as the Slack channel makes it). */
  async chatLinkToken(): Promise<string> {
    const d = this.w.gw.deps;
    const deps = { ...d, config: { ...d.config, server: { ...d.config.server, publicUrl: ORIGIN } } };
    return tokenOf((await requestChatLink(deps, this.slackAccount())).url);
  }
  /** A fresh Slack account linked to alice (the reviewer callers): its key, for the unlink cells. */
  async aliceChatAccount(): Promise<{ platform: 'slack'; workspace: string; user: string }> {
    const a = this.slackAccount();
    assert.ok(await linkChatAccountByEmail(this.w.gw.deps, a, 'alice@example.com'), 'linked');
    return { platform: a.platform, workspace: a.workspace, user: a.user };
  }
  tomorrow(): string {
    return new Date(this.w.gw.deps.clock.now() + 24 * 3600_000).toISOString();
  }
  /** A stored passkey credential of a person (alice by default; as a registration leaves it), fresh per cell: its id. */
  async passkey(email = 'alice@example.com'): Promise<string> {
    const d = this.w.gw.deps;
    const u = await d.db.read.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
    const id = newId();
    await d.committer.run((tx) =>
      tx.db
        .insertInto('passkeys')
        .values({
          id,
          user_id: u.id,
          credential_id: Buffer.from(`credential ${id}`).toString('base64url'),
          public_key: Buffer.from(`public key ${id}`).toString('base64url'),
          sign_count: 0,
          transports: '["internal"]',
          name: 'Laptop',
          device_type: 'singleDevice',
          backed_up: 0,
          created_at: tx.now,
          last_used_at: null,
        })
        .execute(),
    );
    return id;
  }
  async keyPrefix(): Promise<string> {
    return (await issueKey(this.w.gw.deps, ADMIN, { for: 'dan@example.com' })).keyPrefix;
  }
}
