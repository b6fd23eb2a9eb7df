import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatAccountsOf, personOfChatAccount } from '../src/domain/identities/chat-links/chat-account.js';
import { linkChatAccountByEmail } from '../src/domain/identities/chat-links/link-by-email.js';
import { CHAT_LINK_TTL_MS, requestChatLink } from '../src/domain/identities/chat-links/request-chat-link.js';
import { disableUser } from '../src/domain/identities/disable-user.js';
import { FakeClock } from '../src/lib/clock.js';
import { isCsError } from '../src/lib/errors.js';
import { ADMIN, addPeople, auditRows, call, forEachDialect, type World, world } from './helpers.js';
import { type Browser, browserCall, fastPasswords, ORIGIN, redeem, tokenOf, withPassword } from './session-helpers.js';

const TEAM = 'T0CHAT';
const slack = (user: string, display = `@${user.toLowerCase()}`) => ({ platform: 'slack' as const, workspace: TEAM, user, display });

forEachDialect('chat-account links', (dialect) => {
  let w: World;
  let clock: FakeClock;
  let alice: Browser;
  let carol: Browser;
  before(async () => {
    clock = new FakeClock();
    w = await world(dialect, { clock, config: (c) => fastPasswords({ ...c, server: { ...c.server, publicUrl: ORIGIN } }) });
    alice = await withPassword(w, 'alice@example.com');
    carol = await withPassword(w, 'carol@example.com');
  });
  after(async () => w.close());

  const request = async (user: string, display?: string) => tokenOf((await requestChatLink(w.gw.deps, slack(user, display))).url);
  const preview = (token: string) => redeem(w, '/v1/chat-links/preview', { token });
  const confirm = (b: Browser, token: string) => browserCall(w, b, 'POST', '/v1/me/chat-links/confirm', { token });
  const personOf = (user: string) => personOfChatAccount(w.gw.deps.db.read, slack(user));
  const events = async (event: string) => (await auditRows(w)).filter((r) => r.event === event).map((r) => JSON.parse(String(r.data)));

  describe('requesting, previewing and confirming a link', () => {
    it('links the chat account to the signed-in person, audited, and the channels then find that person', async () => {
      const { url, expiresAt } = await requestChatLink(w.gw.deps, slack('U0ALICE', '@alice'));
      assert.match(url, /^http:\/\/127\.0\.0\.1:8700\/link-chat#token=[A-Za-z0-9_-]{43}$/);
      assert.equal(expiresAt, clock.now() + CHAT_LINK_TTL_MS);
      const shown = await preview(tokenOf(url));
      assert.equal(shown.status, 200, JSON.stringify(shown.body));
      assert.deepEqual(
        { ...shown.body, expires_at: undefined },
        { platform: 'slack', workspace: TEAM, user: 'U0ALICE', display: '@alice', expires_at: undefined },
      );
      assert.equal(await personOf('U0ALICE'), null, 'a preview links nothing');
      const res = await confirm(alice, tokenOf(url));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.email, 'alice@example.com');
      assert.equal(res.body.already_linked, false);
      assert.deepEqual(await personOf('U0ALICE'), { id: w.ids.alice, email: 'alice@example.com' });
      const linked = (await events('chat_account.linked')).find((d) => d.user === 'U0ALICE');
      assert.deepEqual(
        { platform: linked?.platform, workspace: linked?.workspace, user_id: linked?.user_id, via: linked?.via },
        { platform: 'slack', workspace: TEAM, user_id: w.ids.alice, via: 'link' },
      );
      const dms = await chatAccountsOf(w.gw.deps.db.read, 'slack', TEAM, [w.ids.alice, w.ids.bob]);
      assert.deepEqual([...dms], [[w.ids.alice, 'U0ALICE']]);
      const mine = await browserCall(w, alice, 'GET', '/v1/me/chat-links');
      assert.deepEqual(
        mine.body.items.map((i: { user: string; display: string }) => [i.user, i.display]),
        [['U0ALICE', '@alice']],
      );
    });

    it('refuses a used link: a replayed confirmation and a preview both read as unknown', async () => {
      const token = await request('U0REPLAY');
      assert.equal((await confirm(alice, token)).status, 200);
      const again = await confirm(carol, token);
      assert.equal(again.status, 404);
      assert.match(again.body.error.message, /unknown, used or expired/);
      assert.equal((await preview(token)).status, 404);
      assert.equal((await personOf('U0REPLAY'))?.email, 'alice@example.com', 'still alice’s');
    });

    it('refuses an expired link, and a newer request ends the older one', async () => {
      const old = await request('U0LATE');
      const token = await request('U0LATE');
      assert.equal((await preview(old)).status, 404, 'superseded');
      assert.equal((await preview(token)).status, 200);
      await clock.advance(CHAT_LINK_TTL_MS);
      assert.equal((await preview(token)).status, 404);
      assert.equal((await confirm(alice, token)).status, 404);
      assert.equal(await personOf('U0LATE'), null);
    });

    it('answers 409 when the chat account is linked to someone else, and never re-points it', async () => {
      assert.equal((await confirm(alice, await request('U0TAKEN'))).status, 200);
      const token = await request('U0TAKEN');
      const res = await confirm(carol, token);
      assert.equal(res.status, 409);
      assert.doesNotMatch(res.body.error.message, /alice/, 'the other person is not named');
      assert.equal((await personOf('U0TAKEN'))?.email, 'alice@example.com');
      const same = await confirm(alice, token);
      assert.equal(same.status, 200, 'the refused confirmation did not use the link');
      assert.equal(same.body.already_linked, true);
    });

    it('refuses an API key (of a person or an agent): a link is confirmed from a browser session only', async () => {
      const token = await request('U0KEYS');
      const byKey = await call(w, 'POST', '/v1/me/chat-links/confirm', w.keys.alice, { token });
      assert.equal(byKey.status, 403);
      assert.match(byKey.body.error.message, /browser session/);
      assert.equal((await call(w, 'POST', '/v1/me/chat-links/confirm', w.keys.agent, { token })).status, 403);
      assert.equal((await redeem(w, '/v1/me/chat-links/confirm', { token })).status, 401, 'not signed in');
      assert.equal(await personOf('U0KEYS'), null);
      assert.equal((await preview(token)).status, 200, 'the link is still usable by its person');
    });

    it('refuses hostile chat input at the boundary and keeps a display name as given, as text', async () => {
      await assert.rejects(requestChatLink(w.gw.deps, slack('u0lower')), (e) => isCsError(e) && e.code === 'invalid_request');
      await assert.rejects(
        requestChatLink(w.gw.deps, { platform: 'teams', workspace: 'not-a-guid', user: 'x', display: 'x' }),
        (e) => isCsError(e) && e.code === 'invalid_request',
      );
      await assert.rejects(requestChatLink(w.gw.deps, slack('U0EMPTY', '')), (e) => isCsError(e) && e.code === 'invalid_request');
      const display = '<img src=x onerror=alert(1)>\u202eevil';
      const shown = await preview(await request('U0HTML', display));
      assert.equal(shown.body.display, display, 'stored and returned as text; the console renders it with safe-text rules');
      assert.equal((await preview('not a token')).status, 404);
    });

    it('fails clearly when server.public_url is not configured', async () => {
      const d = w.gw.deps;
      const bare = { ...d, config: { ...d.config, server: { ...d.config.server, publicUrl: undefined } } };
      await assert.rejects(requestChatLink(bare, slack('U0NOURL')), (e) => isCsError(e) && /server\.public_url/.test(e.message));
    });
  });

  describe('who the chat account stands for', () => {
    it('finds no one for a disabled person, and finds Teams accounts whatever the case of their GUIDs', async () => {
      await addPeople(w, [{ email: 'dora@example.com' }]);
      assert.ok(await linkChatAccountByEmail(w.gw.deps, slack('U0DORA'), 'dora@example.com'));
      assert.equal((await personOf('U0DORA'))?.email, 'dora@example.com');
      await disableUser(w.gw.deps, ADMIN, 'dora@example.com');
      assert.equal(await personOf('U0DORA'), null);
      const tenant = '3F2504E0-4F89-11D3-9A0C-0305E82C3301';
      const oid = 'A1B2C3D4-0000-4000-8000-000000000001';
      const teams = { platform: 'teams' as const, workspace: tenant, user: oid, display: 'Carol' };
      assert.ok(await linkChatAccountByEmail(w.gw.deps, teams, 'carol@example.com'));
      assert.equal(
        (await personOfChatAccount(w.gw.deps.db.read, { ...teams, workspace: tenant.toLowerCase() }))?.email,
        'carol@example.com',
      );
      assert.equal((await personOfChatAccount(w.gw.deps.db.read, teams))?.email, 'carol@example.com');
    });

    it('links by email only as asked: exactly one enabled person, an unlinked account; audited as the system', async () => {
      assert.equal(await linkChatAccountByEmail(w.gw.deps, slack('U0NOBODY'), 'nobody@example.com'), null);
      assert.equal(await linkChatAccountByEmail(w.gw.deps, slack('U0GONE'), 'dora@example.com'), null, 'disabled');
      assert.deepEqual(await linkChatAccountByEmail(w.gw.deps, slack('U0CAROL'), ' Carol@Example.com '), {
        id: (await personOfChatAccount(w.gw.deps.db.read, slack('U0CAROL')))?.id,
        email: 'carol@example.com',
      });
      assert.equal(await linkChatAccountByEmail(w.gw.deps, slack('U0CAROL'), 'alice@example.com'), null, 'never re-pointed');
      assert.equal((await personOf('U0CAROL'))?.email, 'carol@example.com');
      const audit = (await auditRows(w)).filter((r) => r.event === 'chat_account.linked' && String(r.data).includes('U0CAROL'));
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actor_type, 'system');
      assert.equal(JSON.parse(String(audit[0]?.data)).via, 'email_match');
    });
  });

  describe('unlinking', () => {
    it('lets a person unlink their own chat account, audited; a second unlink, or someone else’s, is not found', async () => {
      assert.equal((await confirm(alice, await request('U0MINE'))).status, 200);
      const key = { platform: 'slack', workspace: TEAM, user: 'U0MINE' };
      assert.equal((await browserCall(w, carol, 'POST', '/v1/me/chat-links/unlink', key)).status, 404, 'not carol’s');
      const res = await browserCall(w, alice, 'POST', '/v1/me/chat-links/unlink', key);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(await personOf('U0MINE'), null, 'refused from the next click on');
      assert.equal((await browserCall(w, alice, 'POST', '/v1/me/chat-links/unlink', key)).status, 404);
      const unlinked = (await events('chat_account.unlinked')).filter((d) => d.user === 'U0MINE');
      assert.deepEqual(
        unlinked.map((d) => d.user_id),
        [w.ids.alice],
      );
      assert.equal((await call(w, 'POST', '/v1/me/chat-links/unlink', w.keys.agent, key)).status, 403);
    });

    it('lets an admin list and unlink a person’s chat accounts, audited; a reviewer may not', async () => {
      assert.ok(await linkChatAccountByEmail(w.gw.deps, slack('U0BOB'), 'bob@example.com'));
      const url = '/v1/admin/users/bob@example.com/chat-links';
      assert.equal((await call(w, 'GET', url, w.keys.alice)).status, 403);
      const list = await call(w, 'GET', url, w.keys.ada);
      assert.deepEqual(
        list.body.items.map((i: { platform: string; user: string; display: unknown }) => [i.platform, i.user, i.display]),
        [['slack', 'U0BOB', null]],
      );
      const key = { platform: 'slack', workspace: TEAM, user: 'U0BOB' };
      assert.equal((await call(w, 'POST', `${url}/unlink`, w.keys.alice, key)).status, 403);
      assert.equal((await call(w, 'POST', '/v1/admin/users/carol@example.com/chat-links/unlink', w.keys.ada, key)).status, 404);
      assert.equal((await call(w, 'POST', `${url}/unlink`, w.keys.ada, key)).status, 200);
      assert.equal(await personOf('U0BOB'), null);
      const audit = (await auditRows(w)).filter((r) => r.event === 'chat_account.unlinked' && String(r.data).includes('U0BOB'));
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actor_type, 'user');
      assert.deepEqual((await call(w, 'GET', url, w.keys.ada)).body.items, []);
      assert.equal((await call(w, 'GET', '/v1/admin/users/nobody@example.com/chat-links', w.keys.ada)).status, 404);
    });
  });
});
