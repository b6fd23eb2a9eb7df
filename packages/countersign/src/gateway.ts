import type { FastifyInstance } from 'fastify';
import { AuditExporters } from './audit-export/exporters.js';
import type { Config } from './config/schema.js';
import { publishKeys } from './crypto/publish-keys.js';
import { type CreateDepsOptions, closeDeps, createDeps, type Deps } from './deps.js';
import { warmPasswords } from './domain/identities/passwords/warm-passwords.js';
import { adoptPolicyAtStart } from './domain/policy/adopt-at-start.js';
import { watchPolicy } from './domain/policy/reload-policy.js';
import { decisionMetricsConsumer } from './events/consumers/decision-metrics.js';
import { ConsumerRegistry } from './events/consumers/registry.js';
import { ConsumerRunner } from './events/consumers/runner.js';
import { PolicyWatcher } from './events/policy-watcher.js';
import { buildServer } from './http/server.js';
import { DigestJob } from './notify/digest/digest-job.js';
import { smtpSender } from './notify/email/transport.js';
import { notifyConsumer } from './notify/notify-consumer.js';
import { slackWebClient } from './notify/slack/client.js';
import { slackConsumer } from './notify/slack/slack-consumer.js';
import { SlackSocket } from './notify/slack/socket-mode.js';
import { teamsConsumer } from './notify/teams/teams-consumer.js';
import { webhookMetrics } from './notify/webhooks/metrics.js';
import { WebhookConsumers } from './notify/webhooks/webhook-consumers.js';
import { AuditWatch } from './scheduler/audit-watch.js';
import { Checkpointer } from './scheduler/checkpointer.js';
import { Retention } from './scheduler/retention.js';
import { Scheduler } from './scheduler/scheduler.js';
import { registerScrapeGauges } from './telemetry/scrape-gauges.js';
import { waitSpansConsumer } from './telemetry/wait-spans.js';

export interface Gateway {
  deps: Deps;
  app: FastifyInstance;
  scheduler: Scheduler;
  /** Signs audit checkpoints; tests call checkpointNow() / tick(). */
  checkpointer: Checkpointer;
  /** Verifies the audit chain from genesis now and then; tests call check(). */
  auditWatch: AuditWatch;
  /** Follows the database's active policy version; tests call sync(). */
  policyWatcher: PolicyWatcher;
  /** Durable event consumers: register one (a plugin, a test) and this node runs it when it holds its lease. */
  consumers: ConsumerRegistry;
  /** Runs the registered consumers; tests call tick(). */
  consumerRunner: ConsumerRunner;
  /** Streams the audit log to the configured SIEM sinks; tests call tick(). */
  auditExport: AuditExporters;
  /** Deletes old outbox events; tests call tick(). */
  retention: Retention;
  /** Registers a delivering consumer per webhook endpoint; tests call sync(). */
  webhooks: WebhookConsumers;
  /** Sends the email digests of `digest:` routes (null without email); tests call tick(). */
  digests: DigestJob | null;
  /** Base URL the server listens on (after listen()). */
  url: string;
  close(): Promise<void>;
}

/** Wires one gateway: deps, policy, scheduler, HTTP server. `listen: false` keeps it in-process (app.inject). */
export async function startGateway(
  config: Config,
  opts: CreateDepsOptions & {
    listen?: boolean;
    watchPolicy?: boolean;
    /** How often the node re-reads the active policy version (default 1 s; tests lengthen it to isolate the bus path). */
    policyCheckMs?: number;
  } = {},
): Promise<Gateway> {
  const deps = await createDeps(config, opts);
  try {
    // First, so every event this gateway commits from here on reaches its subscribers through the feed.
    await deps.feed.start();
  } catch (e) {
    await closeDeps(deps);
    throw e;
  }
  const scheduler = new Scheduler(deps);
  const checkpointer = new Checkpointer(deps);
  const auditWatch = new AuditWatch(deps, { url: config.database.url, schema: opts.schema });
  const policyWatcher = new PolicyWatcher(deps, opts.policyCheckMs);
  const consumers = new ConsumerRegistry();
  consumers.register(decisionMetricsConsumer(deps.metrics));
  if (deps.tracing.enabled) consumers.register(waitSpansConsumer(deps));
  registerScrapeGauges(deps);
  // Listed from the start (with no samples) rather than at the first delivery, so dashboards and alerts find them.
  webhookMetrics(deps.metrics.registry);
  // Notifications run only where a channel is configured: a gateway without one keeps no cursor for them.
  const email = config.notifications.email.enabled ? smtpSender(config.notifications.email) : null;
  if (email) consumers.register(notifyConsumer(deps, email));
  const digests = email ? new DigestJob(deps, email) : null;
  const slack = config.notifications.slack;
  const slackWeb = slack.enabled ? slackWebClient(slack) : undefined;
  if (slackWeb) consumers.register(slackConsumer(deps, slackWeb));
  const slackSocket = slackWeb && slack.mode === 'socket' ? await SlackSocket.open(deps, slackWeb, slack) : undefined;
  if (config.notifications.teams.enabled) consumers.register(teamsConsumer(deps));
  const consumerRunner = new ConsumerRunner(deps, consumers);
  const webhooks = new WebhookConsumers(deps, consumers);
  const auditExport = new AuditExporters(deps, consumerRunner.owner);
  const retention = new Retention(deps);
  const app = buildServer(deps);
  let url = '';
  let unwatch: () => void = () => undefined;
  try {
    await publishKeys(deps);
    // Before the first request: this node decides with the database's active version (or seeds it).
    await adoptPolicyAtStart(deps);
    policyWatcher.start();
    if (opts.watchPolicy) unwatch = watchPolicy(deps);
    if (opts.listen !== false) {
      const address = await app.listen({ host: config.server.host, port: config.server.port });
      url = address.replace('[::1]', 'localhost');
    } else {
      await app.ready();
    }
    warmPasswords(deps).catch((e: unknown) => deps.logger.warn({ err: e }, 'could not prepare the password checker'));
    checkpointer.start();
    scheduler.start();
    auditWatch.start();
    consumerRunner.start();
    webhooks.start();
    auditExport.start();
    retention.start();
    digests?.start();
    await slackSocket?.start();
  } catch (e) {
    unwatch();
    await slackSocket?.stop().catch(() => undefined);
    policyWatcher.stop();
    webhooks.stop();
    await auditExport.stop().catch(() => undefined);
    await app.close().catch(() => undefined);
    await closeDeps(deps);
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    deps,
    app,
    scheduler,
    checkpointer,
    auditWatch,
    policyWatcher,
    consumers,
    consumerRunner,
    retention,
    webhooks,
    auditExport,
    digests,
    url,
    close() {
      closing ??= (async () => {
        unwatch();
        policyWatcher.stop();
        webhooks.stop();
        await digests?.stop();
        await slackSocket?.stop().catch(() => undefined);
        await consumerRunner.stop();
        await auditExport.stop();
        await retention.stop();
        await scheduler.stop();
        await checkpointer.stop();
        await auditWatch.stop();
        await app.close();
        await closeDeps(deps);
      })();
      return closing;
    },
  };
}
