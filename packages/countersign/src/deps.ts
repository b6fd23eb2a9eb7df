import type { TracerProvider } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { policySectionsOf } from './config/load.js';
import type { Config } from './config/schema.js';
import { type Keyring, loadOrCreateKeyring } from './crypto/keyring.js';
import { type CommitQueue, Committer } from './db/committer.js';
import { type Database, openDatabase } from './db/connect.js';
import { ChainHealth } from './domain/audit/chain-health.js';
import { KeyCache } from './domain/identities/key-cache.js';
import { OidcRelyingParty } from './domain/identities/oidc/relying-party.js';
import { PasswordChecker } from './domain/identities/passwords/password-checker.js';
import { RefusalLimiter } from './domain/receipts/refusal-limiter.js';
import { EventBus } from './events/bus.js';
import { EventFeed } from './events/feed.js';
import { IdentityWatcher } from './events/identity-watcher.js';
import { headSeq, readAfterWithEpoch } from './events/outbox.js';
import { type Clock, systemClock } from './lib/clock.js';
import { createMetrics, type Metrics } from './metrics.js';
import { TeamsBot } from './notify/teams/bot.js';
import { loadPolicy, PolicyStore } from './policy/store.js';
import { createTracing, type Tracing } from './telemetry/tracing.js';

/** Everything a component may use, built once at start-up and passed in explicitly. */
export interface Deps {
  readonly config: Config;
  readonly db: Database;
  readonly committer: CommitQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly bus: EventBus;
  /**
   * Publishes to `bus` every committed event once, in seq order: this process's commits and, once
   * started (the gateway starts it; the admin CLI does not), other processes' (LISTEN/NOTIFY, backstop poll).
   */
  readonly feed: EventFeed;
  readonly metrics: Metrics;
  /** OpenTelemetry spans (telemetry/): off, and costing one boolean test, unless an SDK is registered. */
  readonly tracing: Tracing;
  /** The policy in force; reloads swap it whole. */
  readonly policy: PolicyStore;
  /** Ed25519 keys that sign receipts and audit checkpoints. */
  readonly keyring: Keyring;
  /** How many refused redemptions each agent gets audited per minute. */
  readonly receiptRefusals: RefusalLimiter;
  /** What the running gateway last learned about its audit chain (readiness, metrics). */
  readonly auditHealth: ChainHealth;
  /** Ends held requests (event streams, long-polls) whose key or principal lost its power. */
  readonly identities: IdentityWatcher;
  /** Recently used API keys' principals, good while the identity epoch stands (so revocation is still immediate). */
  readonly keys: KeyCache;
  /** Checks sign-in passwords with bounded concurrency (scrypt is memory-hard by design). */
  readonly passwords: PasswordChecker;
  /** Single sign-on with the organisation's IdP, when `auth.oidc` is configured. */
  readonly oidc: OidcRelyingParty | undefined;
  /** The Microsoft Teams bot (notify/teams), when `notifications.teams` configures one. */
  readonly teams: TeamsBot | undefined;
}

export interface CreateDepsOptions {
  clock?: Clock;
  logger?: Logger;
  /** PostgreSQL schema (tests). */
  schema?: string;
  /** PostgreSQL: notify other gateways on commit (default true; the benchmark turns it off to measure its cost). */
  notify?: boolean;
  /** The tracer provider to record spans with (tests: an SDK provider with an in-memory exporter); default: the global one. */
  tracerProvider?: TracerProvider;
}

export async function createDeps(config: Config, opts: CreateDepsOptions = {}): Promise<Deps> {
  const logger = opts.logger ?? pino({ level: config.log.level });
  // Compiled before anything opens: a refused policy stops start-up with every problem named.
  const policy = new PolicyStore(loadPolicy(policySectionsOf(config), config.review.defaultExpiryMs));
  const clock = opts.clock ?? systemClock;
  // Before the database opens, so a bad keyring stops start-up with nothing to clean up.
  const { keyring } = await loadOrCreateKeyring(config.signing.keyringFile, new Date(clock.now()));
  const db = await openDatabase({
    url: config.database.url,
    poolSize: config.database.poolSize,
    connectTimeoutMs: config.database.connectTimeoutMs,
    ...(opts.schema ? { schema: opts.schema } : {}),
    ...(config.database.listenUrl ? { listenUrl: config.database.listenUrl } : {}),
    ...(opts.notify === false ? { notify: false } : {}),
  });
  const bus = new EventBus();
  const metrics = createMetrics();
  const feed = new EventFeed({
    db,
    source: { readAfter: (after, limit) => readAfterWithEpoch(db.read, after, limit), head: () => headSeq(db.read) },
    bus,
    clock,
    logger,
    metrics,
    pollIntervalMs: config.events.pollIntervalMs,
  });
  const committer = new Committer(db, clock, logger, (events) => feed.committed(events));
  const receiptRefusals = new RefusalLimiter(clock, config.receipts.maxRefusalsPerMinute);
  const auditHealth = new ChainHealth(metrics, logger);
  const identities = new IdentityWatcher(db.read, logger, { now: () => clock.now(), idleTimeoutMs: config.auth.sessions.idleTimeoutMs });
  const oidc = config.oidc ? new OidcRelyingParty(config.oidc, clock) : undefined;
  const passwords = new PasswordChecker(config.auth.local.scryptLogN);
  const teams = config.notifications.teams.bot ? new TeamsBot(config.notifications.teams, clock) : undefined;
  return {
    config,
    db,
    committer,
    clock,
    logger,
    bus,
    feed,
    metrics,
    tracing: createTracing(opts.tracerProvider),
    policy,
    keyring,
    receiptRefusals,
    auditHealth,
    identities,
    keys: new KeyCache(),
    passwords,
    oidc,
    teams,
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  deps.identities.stop();
  await deps.committer.flush();
  await deps.feed.stop();
  await deps.db.close();
}
