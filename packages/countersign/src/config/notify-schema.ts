import { z } from 'zod';
import { CsError } from '../lib/errors.js';
import { Duration as duration } from '../policy/schema.js';
import { resolveSlack, type SlackConfig, SlackConfigSchema } from './slack-schema.js';
import { resolveTeams, type TeamsConfig, TeamsConfigSchema, TeamsWebhookName } from './teams-schema.js';

/**
 * Where a notification goes. `approvers`: each person the event asks (or, for a decision, who was asked),
 * individually, on a personal channel (email now; Slack and Teams DMs slot in as more `channel` values).
 * `email`: one shared address (a team list). A Slack or Teams channel becomes one more member of this union.
 */
export const NotifyTarget = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('approvers'), channel: z.enum(['email', 'slack', 'teams']) }),
  z.strictObject({ kind: z.literal('email'), address: z.email().max(320) }),
  /** A Slack channel by id (`C…` public, `G…` private; the app must be a member). */
  z.strictObject({
    kind: z.literal('slack'),
    channel: z.string().regex(/^[CG][A-Z0-9]{2,30}$/, 'a Slack channel id such as C0123ABCD'),
  }),
  /** A Teams channel the bot is installed in (its conversation id, `19:…@thread.tacv2`): one card, buttons per viewer. */
  z.strictObject({ kind: z.literal('teams_channel'), conversation: z.string().min(1).max(300) }),
  /** A notify-only Teams Workflows webhook named in `notifications.teams.webhooks`: a card without buttons. */
  z.strictObject({ kind: z.literal('teams_webhook'), webhook: TeamsWebhookName }),
]);
export type NotifyTarget = z.infer<typeof NotifyTarget>;

/** `asked`: people are asked to decide (new review, next stage, escalation, reminder). `decided`: the review ended. */
export const NOTIFY_MOMENTS = ['asked', 'decided'] as const;
export type NotifyMoment = (typeof NOTIFY_MOMENTS)[number];

/** One routing rule: for this workflow (`*`: any) and optionally one of its stages, these moments go to these targets. */
export const NotifyRoute = z
  .strictObject({
    workflow: z.string().min(1).max(200).default('*'),
    /** A stage name; absent: every stage. */
    stage: z.string().min(1).max(200).optional(),
    events: z.array(z.enum(NOTIFY_MOMENTS)).min(1).default(['asked']),
    to: z.array(NotifyTarget).min(1).max(50),
    /**
     * Instead of a message per request, one message per period (5m to 7d) to each recipient, listing what
     * this route covers that is still pending then (and, for approvers, theirs to decide). `asked` only.
     */
    digest: duration.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.digest === undefined) return;
    if (r.digest < 300_000 || r.digest > 7 * 86_400_000)
      ctx.addIssue({ code: 'custom', path: ['digest'], message: 'a digest period is 5m to 7d' });
    if (r.events.includes('decided'))
      ctx.addIssue({ code: 'custom', path: ['events'], message: 'a digest lists what waits; it has no decided events' });
    r.to.forEach((t, i) => {
      if (t.kind === 'email' || (t.kind === 'approvers' && t.channel === 'email')) return;
      ctx.addIssue({ code: 'custom', path: ['to', i], message: 'a digest goes by email: to approvers by email or to an address' });
    });
  });
export type NotifyRoute = z.output<typeof NotifyRoute>;
export const NotifyRoutes = z.array(NotifyRoute).max(500);

/** `notifications.email`: SMTP through nodemailer. The account's user and password come from the environment only. */
export const EmailConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  host: z.string().min(1).max(253).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(587),
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  /** The From: header, e.g. `Countersign <countersign@example.com>`. */
  from: z.string().min(3).max(320).default('countersign@localhost'),
  /** Approve / deny links in the email (two-step: a confirmation page, then a POST). Off by default. */
  decision_links: z.boolean().default(false),
  /** How long a decision link works; never past the action's own deadline. */
  link_ttl: duration.default(3_600_000),
  /** Gives up on one SMTP conversation after this long (the event is retried). */
  timeout: duration.default(30_000),
});

/** The `notifications:` section of the config file. */
export const NotificationsConfigSchema = z.strictObject({
  email: EmailConfigSchema.default(EmailConfigSchema.parse({})),
  slack: SlackConfigSchema.default(SlackConfigSchema.parse({})),
  /** Microsoft Teams (teams-schema.ts): the bot, and notify-only Workflows webhooks. */
  teams: TeamsConfigSchema.default(TeamsConfigSchema.parse({})),
  /**
   * Seeds the policy store's routes, like `policy:` and `workflows:` (the active policy version's routes are
   * what every node follows). Absent: every workflow's `asked` events go to its approvers by email.
   */
  routes: NotifyRoutes.optional(),
});

export type NotificationsConfigFile = z.input<typeof NotificationsConfigSchema>;

/** The resolved section: defaults applied, SMTP credentials read from the environment. */
export type NotificationsConfig = {
  email: z.output<typeof EmailConfigSchema> & { user: string | undefined; password: string | undefined };
  slack: SlackConfig;
  /** As written in the config file (undefined: not written); what nodes follow is the policy store's. */
  routes: NotifyRoute[] | undefined;
  teams: TeamsConfig;
};

export const DEFAULT_ROUTES: NotifyRoute[] = [{ workflow: '*', events: ['asked'], to: [{ kind: 'approvers', channel: 'email' }] }];

/** Applies the defaults; `COUNTERSIGN_SMTP_USER` / `COUNTERSIGN_SMTP_PASSWORD` authenticate to the server. */
export function resolveNotifications(
  file: z.output<typeof NotificationsConfigSchema> | undefined,
  env: NodeJS.ProcessEnv,
  publicUrl: string | undefined,
): NotificationsConfig {
  const parsed = file ?? NotificationsConfigSchema.parse({});
  if (parsed.email.enabled && publicUrl === undefined) {
    throw new CsError('invalid_request', 'notifications.email needs server.public_url: every email links to the action in the console');
  }
  const user = env.COUNTERSIGN_SMTP_USER || undefined;
  const password = env.COUNTERSIGN_SMTP_PASSWORD || undefined;
  if ((user === undefined) !== (password === undefined)) {
    throw new CsError('invalid_request', 'set both COUNTERSIGN_SMTP_USER and COUNTERSIGN_SMTP_PASSWORD, or neither');
  }
  if (parsed.slack.enabled && publicUrl === undefined) {
    throw new CsError('invalid_request', 'notifications.slack needs server.public_url: every message links to the action in the console');
  }
  for (const route of parsed.routes ?? []) {
    for (const t of route.to) {
      if (t.kind === 'teams_webhook' && !parsed.teams.webhooks.includes(t.webhook)) {
        throw new CsError(
          'invalid_request',
          `a notification route names the Teams webhook ${t.webhook}, which notifications.teams.webhooks does not list`,
        );
      }
    }
  }
  return {
    email: { ...parsed.email, user, password },
    slack: resolveSlack(parsed.slack, env),
    routes: parsed.routes,
    teams: resolveTeams(parsed.teams, env, publicUrl),
  };
}
