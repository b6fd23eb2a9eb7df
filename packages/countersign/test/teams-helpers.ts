import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import type { Config } from '../src/config/schema.js';
import type { World } from './helpers.js';
import { APP_ID, APP_PASSWORD, TENANT, type TeamsStandIn } from './teams-standin.js';

export const PUBLIC_URL = 'https://countersign.example';
export const CHANNEL = '19:review-channel@thread.tacv2';

/** People of the test world with a Teams account: Entra object id (a GUID) and Teams user id. */
export const TEAMS_PEOPLE = {
  alice: { email: 'alice@example.com', aad: '0a11ce00-0000-4000-8000-000000000001', teamsId: '29:alice-teams-id' },
  carol: { email: 'carol@example.com', aad: '0ca501ee-0000-4000-8000-000000000002', teamsId: '29:carol-teams-id' },
  bob: { email: 'bob@example.com', aad: '0b0b0000-0000-4000-8000-000000000003', teamsId: '29:bob-teams-id' },
  victor: { email: 'victor@example.com', aad: '01c70400-0000-4000-8000-000000000004', teamsId: '29:victor-teams-id' },
  ada: { email: 'ada@example.com', aad: '0ada0000-0000-4000-8000-000000000005', teamsId: '29:ada-teams-id' },
} as const;
export type TeamsPerson = (typeof TEAMS_PEOPLE)[keyof typeof TEAMS_PEOPLE];

/** A config transformer: the Teams bot against the stand-in, routes to linked approvers, a channel and a webhook. */
export function withTeams(standin: TeamsStandIn, more: Partial<Config> = {}, routes?: unknown[]): (c: Config) => Config {
  const file = NotificationsConfigSchema.parse({
    teams: {
      enabled: true,
      app_id: APP_ID,
      tenant: TENANT,
      openid_metadata_url: `${standin.base}/openid`,
      token_url: `${standin.base}/token`,
      service_url_allow: [`${standin.base}/connector/*`],
      webhooks: ['ops'],
      timeout: 5000,
    },
    routes: routes ?? [
      {
        workflow: '*',
        events: ['asked', 'decided'],
        to: [
          { kind: 'approvers', channel: 'teams' },
          { kind: 'teams_channel', conversation: CHANNEL },
          { kind: 'teams_webhook', webhook: 'ops' },
        ],
      },
    ],
  });
  const env = { COUNTERSIGN_TEAMS_APP_PASSWORD: APP_PASSWORD, COUNTERSIGN_TEAMS_WEBHOOK_OPS: `${standin.base}/workflow/ops` };
  return (c) => ({
    ...c,
    server: { ...c.server, publicUrl: PUBLIC_URL },
    notifications: resolveNotifications(file, env, PUBLIC_URL),
    ...more,
  });
}

/**
 * Links a person's Teams account as a confirmed chat link is stored (linked_identities, issuer
 * `teams:<tenant>`, subject the Entra object id), the way the chat-links module writes it.
 */
export async function linkTeams(w: World, p: TeamsPerson): Promise<void> {
  const user = await w.gw.deps.db.read.selectFrom('users').select('id').where('email', '=', p.email).executeTakeFirstOrThrow();
  await w.gw.deps.db.write
    .insertInto('linked_identities')
    .values({
      issuer: `teams:${TENANT}`,
      subject: p.aad,
      user_id: user.id,
      email: p.email,
      created_at: w.gw.deps.clock.now(),
      last_sign_in_at: null,
    })
    .execute();
}

/** An activity from Teams, from a person, in a personal chat (default) or a channel. */
export function activity(
  standin: TeamsStandIn,
  p: TeamsPerson,
  extra: Record<string, unknown> = {},
  conversation?: { id: string; type: string },
) {
  return {
    type: 'message',
    id: `act-${Math.random().toString(36).slice(2)}`,
    channelId: 'msteams',
    serviceUrl: standin.serviceUrl,
    from: { id: p.teamsId, aadObjectId: p.aad.toUpperCase(), name: `${p.email} <b>display</b>` },
    recipient: { id: `28:${APP_ID}`, name: 'Countersign' },
    conversation: {
      id: conversation?.id ?? `a:personal-${p.teamsId}`,
      conversationType: conversation?.type ?? 'personal',
      tenantId: TENANT,
    },
    channelData: { tenant: { id: TENANT } },
    ...extra,
  };
}

/** An Action.Execute invoke from a card. */
export function invoke(standin: TeamsStandIn, p: TeamsPerson, verb: string, data: Record<string, unknown>) {
  return activity(standin, p, {
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
  });
}

/** POSTs an activity to the bot's messaging endpoint with a token (signed right unless `token` is given). */
export async function toBot(w: World, standin: TeamsStandIn, body: Record<string, unknown>, token?: string) {
  const jwt = token ?? (await standin.sign(w.gw.deps.clock.now(), String(body.serviceUrl)));
  const res = await w.gw.app.inject({
    method: 'POST',
    url: '/teams/messages',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read the answer's fields freely
  let parsed: any = res.body;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    // not JSON
  }
  return { status: res.statusCode, body: parsed };
}

/** Every string a card draws, by where it is drawn: TextBlocks (markdown), TextRuns (literal), action titles. */
export function cardTexts(card: Record<string, unknown>): { blocks: string[]; runs: string[] } {
  const blocks: string[] = [];
  const runs: string[] = [];
  for (const el of (card.body ?? []) as Record<string, unknown>[]) {
    if (el.type === 'TextBlock') blocks.push(String(el.text));
    if (el.type === 'RichTextBlock') for (const r of el.inlines as { text: string }[]) runs.push(r.text);
  }
  return { blocks, runs };
}

/** A card's Action.Execute verbs. */
export function verbsOf(card: Record<string, unknown>): string[] {
  return ((card.actions ?? []) as { type: string; verb?: string }[]).filter((a) => a.type === 'Action.Execute').map((a) => a.verb ?? '');
}

/** The drawn text of a card as one string (runs joined as the client draws them side by side). */
export function drawn(card: Record<string, unknown>): string {
  const { blocks, runs } = cardTexts(card);
  return [...blocks, runs.join('')].join('\n');
}
