/*
 * The `notifications.teams` configuration: defaults, secrets only from the environment, and the refusals
 * that stop start-up with words rather than a bot that half works.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import { BOT_FRAMEWORK_METADATA, TEAMS_SERVICE_HOSTS } from '../src/config/teams-schema.js';
import { serviceUrlAllowed } from '../src/notify/teams/service-url.js';

const URL = 'https://countersign.example';
const BOT = { enabled: true, app_id: 'app', tenant: '3F2504E0-4F89-11D3-9A0C-0305E82C3301' };
const resolve = (teams: Record<string, unknown>, env: Record<string, string> = {}, routes?: unknown[]) =>
  resolveNotifications(NotificationsConfigSchema.parse({ teams, ...(routes ? { routes } : {}) }), env, URL).teams;

describe('notifications.teams configuration', () => {
  it('defaults to off, with Bot Framework metadata and the Teams service hosts', () => {
    const t = resolve({});
    assert.equal(t.enabled, false);
    assert.equal(t.bot, false);
    assert.equal(t.openid_metadata_url, BOT_FRAMEWORK_METADATA);
    assert.deepEqual(t.service_url_allow, TEAMS_SERVICE_HOSTS);
  });

  it('turns the bot on with app id, tenant (lower-cased) and the password from the environment only', () => {
    const t = resolve(BOT, { COUNTERSIGN_TEAMS_APP_PASSWORD: 's3cret' });
    assert.equal(t.bot, true);
    assert.equal(t.tenant, '3f2504e0-4f89-11d3-9a0c-0305e82c3301');
    assert.equal(t.appPassword, 's3cret');
    assert.throws(() => NotificationsConfigSchema.parse({ teams: { ...BOT, app_password: 'x' } }), /app_password/);
  });

  it('refuses a bot without its password, a section with neither bot nor webhooks, and no public URL', () => {
    assert.throws(() => resolve(BOT), /COUNTERSIGN_TEAMS_APP_PASSWORD/);
    assert.throws(() => resolve({ enabled: true }), /neither a bot/);
    const file = NotificationsConfigSchema.parse({ teams: BOT });
    assert.throws(() => resolveNotifications(file, { COUNTERSIGN_TEAMS_APP_PASSWORD: 's' }, undefined), /public_url/);
  });

  it('reads each webhook URL from COUNTERSIGN_TEAMS_WEBHOOK_<NAME>, https only, and refuses routes to unknown webhooks', () => {
    const t = resolve({ enabled: true, webhooks: ['ops'] }, { COUNTERSIGN_TEAMS_WEBHOOK_OPS: 'https://prod.logic.azure.com/x' });
    assert.deepEqual(t.webhookUrls, { ops: 'https://prod.logic.azure.com/x' });
    assert.throws(() => resolve({ enabled: true, webhooks: ['ops'] }), /COUNTERSIGN_TEAMS_WEBHOOK_OPS/);
    assert.throws(() => resolve({ enabled: true, webhooks: ['ops'] }, { COUNTERSIGN_TEAMS_WEBHOOK_OPS: 'http://example.com/x' }), /https/);
    assert.throws(() => NotificationsConfigSchema.parse({ teams: { webhooks: ['Bad Name'] } }));
    const routes = [{ to: [{ kind: 'teams_webhook', webhook: 'nope' }] }];
    assert.throws(
      () => resolve({ enabled: true, webhooks: ['ops'] }, { COUNTERSIGN_TEAMS_WEBHOOK_OPS: 'https://x.example/y' }, routes),
      /does not list/,
    );
  });

  it('trusts a service URL only when a pattern matches it whole', () => {
    assert.ok(serviceUrlAllowed(TEAMS_SERVICE_HOSTS, 'https://smba.trafficmanager.net/emea/'));
    assert.ok(!serviceUrlAllowed(TEAMS_SERVICE_HOSTS, 'https://smba.trafficmanager.net.evil.example/emea/'));
    assert.ok(!serviceUrlAllowed(TEAMS_SERVICE_HOSTS, 'https://evil.example/?https://smba.trafficmanager.net/'));
    assert.ok(!serviceUrlAllowed(TEAMS_SERVICE_HOSTS, 'https://user:pw@smba.trafficmanager.net/emea/'));
    assert.ok(!serviceUrlAllowed(TEAMS_SERVICE_HOSTS, 'not a url'));
  });
});
