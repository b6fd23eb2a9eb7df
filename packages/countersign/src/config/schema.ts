import { z } from 'zod';
import {
  Duration as duration,
  GrantsConfigSchema,
  type PolicyConfig,
  PolicySchema,
  type WorkflowConfig,
  WorkflowsSchema,
} from '../policy/schema.js';
import { type AuditExportConfig, AuditExportConfigSchema } from './audit-export-schema.js';
import { McpConfigSchema } from './mcp-schema.js';
import { type NotificationsConfig, NotificationsConfigSchema } from './notify-schema.js';
import { type OidcConfig, OidcConfigSchema } from './oidc-schema.js';

/** The config file as written by people: snake_case keys, durations as text. Unknown keys are errors. */
export const ConfigFileSchema = z.strictObject({
  data_dir: z.string().min(1).optional(),
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      public_url: z.url().optional(),
      body_limit_bytes: z
        .number()
        .int()
        .min(1024)
        .max(64 * 1024 * 1024)
        .optional(),
      trust_proxy: z.boolean().optional(),
      /** A client must send its request line and headers within this long (slow-header attacks). */
      headers_timeout: duration.optional(),
      /** …and the whole request, body included, within this long. Responses (long-polls, event streams) are not limited. */
      request_timeout: duration.optional(),
      /** An idle keep-alive connection is closed after this long; keep it above a load balancer's idle time-out. */
      keep_alive_timeout: duration.optional(),
    })
    .optional(),
  database: z
    .strictObject({
      url: z.string().min(1).optional(),
      pool_size: z.number().int().min(1).max(200).optional(),
      /**
       * PostgreSQL: where the gateway's LISTEN connection goes (default `url`). LISTEN needs a session of its
       * own: behind PgBouncer in transaction mode, point this at PostgreSQL directly or a session-mode pool.
       */
      listen_url: z.string().min(1).optional(),
      /**
       * PostgreSQL: how long opening a connection may take (default 5s). A server host that drops packets
       * instead of refusing them would otherwise hold requests until TCP gives up; past this they answer 503.
       */
      connect_timeout: duration.optional(),
    })
    .optional(),
  review: z
    .strictObject({
      default_expiry: duration.optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      reason_bytes: z.number().int().min(1).max(65536).optional(),
      arguments_bytes: z.number().int().min(1024).optional(),
      arguments_depth: z.number().int().min(1).max(256).optional(),
      max_wait_seconds: z.number().int().min(1).max(300).optional(),
    })
    .optional(),
  policy: PolicySchema.optional(),
  workflows: WorkflowsSchema.optional(),
  /**
   * Which policy a starting node decides with once the database holds one (docs/policy.md). `database`
   * (default): the database's active version; this file only seeds an empty database. `file`: this file's
   * policy is applied as a new version at start when it differs (single-node setups).
   */
  policy_source: z.enum(['database', 'file']).optional(),
  grants: GrantsConfigSchema.optional(),
  signing: z
    .strictObject({
      /** Keyring JSON (mode 0600); default <data_dir>/signing-keys.json. Point every node at the same file. */
      keyring_file: z.string().min(1).optional(),
    })
    .optional(),
  receipts: z
    .strictObject({
      /** How long an approved action may wait to be redeemed; then it expires. */
      execution_window: duration.optional(),
      /** `iss` of receipts; default the public URL, else "countersign". */
      issuer: z.string().min(1).max(512).optional(),
      /** Refused redemptions audited per agent per minute; past it the agent is answered 429 until the minute ends. */
      max_refusals_per_minute: z.number().int().min(1).max(100_000).optional(),
    })
    .optional(),
  audit: z
    .strictObject({
      /** Sign a checkpoint after this many new entries… */
      checkpoint_every: z.number().int().min(1).optional(),
      /** …or this long after the last one, whichever comes first (if there are new entries). */
      checkpoint_interval: duration.optional(),
      /** The log's origin line in checkpoints; default the public URL's host, else "countersign". */
      origin: z.string().min(1).max(256).optional(),
      /** Run on each new checkpoint, with the checkpoint on stdin (ship it off the box). */
      checkpoint_command: z.string().min(1).optional(),
      /** How often the running gateway verifies the whole chain from genesis (and at start); 0 turns it off. */
      verify_interval: duration.optional(),
      /** Answer /readyz with 503 while the chain is known to be tampered (default: report it, stay ready). */
      unready_when_tampered: z.boolean().optional(),
    })
    .optional(),
  auth: z
    .strictObject({
      /** Browser sessions: ended after `idle_timeout` without a request, and `absolute_timeout` after sign-in whatever happens. */
      sessions: z
        .strictObject({
          idle_timeout: duration.optional(),
          absolute_timeout: duration.optional(),
        })
        .optional(),
      /** Local accounts (email + password). */
      local: z
        .strictObject({
          /** scrypt cost as log2(N); OWASP's 17 by default. Raising it re-hashes nobody: each hash keeps its own parameters. */
          scrypt_log_n: z.number().int().min(14).max(20).optional(),
          min_password_length: z.number().int().min(8).max(128).optional(),
          /** Failed sign-ins allowed per account, and per client address, before a lockout… */
          max_failures_per_account: z.number().int().min(1).max(1000).optional(),
          max_failures_per_address: z.number().int().min(1).max(100_000).optional(),
          /** …counted within this window; the lockout starts at `lockout` and doubles with each further failure (at most 24h). */
          failure_window: duration.optional(),
          lockout: duration.optional(),
          /** How long an admin-issued password reset link and the first-run setup link work (each once). */
          reset_link_ttl: duration.optional(),
          setup_link_ttl: duration.optional(),
        })
        .optional(),
      /** Passkeys (WebAuthn), the second factor of local accounts. */
      passkeys: z
        .strictObject({
          /** The relying party id: the gateway's host name as browsers see it (default: server.public_url's host). */
          rp_id: z
            .string()
            .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'a host name (no scheme, port or path)')
            .max(253)
            .optional(),
          /** The origins browsers may run a ceremony from (default: server.public_url's origin). */
          origins: z.array(z.url().max(2048)).min(1).max(20).optional(),
          /** How long a started ceremony (and a pending passkey sign-in) may take; once only (default 5m). */
          challenge_ttl: duration.optional(),
          /** Adding or removing a passkey needs a sign-in or re-authentication at most this long ago (default 10m). */
          recent_sign_in: duration.optional(),
        })
        .optional(),
      /** Single sign-on with the organisation's identity provider (OpenID Connect). */
      oidc: OidcConfigSchema.optional(),
    })
    .optional(),
  /** The event outbox: how long events are kept, how durable consumers retry, how often each gateway polls it. */
  events: z
    .strictObject({
      /** Events (never audit entries) older than this are deleted, unless a consumer still owes them a delivery; 0 keeps them all. */
      retention: duration.optional(),
      /** Deliveries of one event to one consumer before it is dead-lettered (default 8). */
      consumer_max_attempts: z.number().int().min(1).max(100).optional(),
      /** How long a node holds a consumer without renewing before another node takes it over (default 30s). */
      consumer_lease: duration.optional(),
      /** The backstop: each gateway reads the outbox this often for events it was not told about (default 1s). */
      poll_interval: duration.optional(),
    })
    .optional(),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    })
    .optional(),
  /** The reviewer console: the deny reasons it offers as presets (free text is always possible). */
  console: z
    .strictObject({
      deny_reasons: z.array(z.string().trim().min(1).max(200)).max(20).optional(),
    })
    .optional(),
  /** Notification channels (docs/channels.md): email over SMTP, and which events go to whom. */
  notifications: NotificationsConfigSchema.optional(),
  /** Streaming audit entries to SIEMs (syslog, Splunk HEC, OTLP logs): docs/operations.md. */
  audit_export: AuditExportConfigSchema.optional(),
  /** `countersign mcp proxy` (the gateway ignores it): upstream servers, hold budgets, pins, listener. */
  mcp: McpConfigSchema.optional(),
});

export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** The resolved configuration every component receives; all defaults applied. */
export interface Config {
  dataDir: string;
  server: {
    host: string;
    port: number;
    publicUrl: string | undefined;
    bodyLimitBytes: number;
    trustProxy: boolean;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  database: { url: string; poolSize: number; listenUrl: string | undefined; connectTimeoutMs: number };
  review: { defaultExpiryMs: number };
  limits: { reasonBytes: number; argumentsBytes: number; argumentsDepth: number; maxWaitSeconds: number };
  /** The config file the policy was read from, so it can be reloaded; undefined when none. */
  configFile: string | undefined;
  policy: PolicyConfig;
  /** As written, with the built-in `default` workflow added when the file does not define one. */
  workflows: Record<string, WorkflowConfig>;
  /** Whether the database's active policy version (default) or this file's policy wins at start. */
  policySource: 'database' | 'file';
  grants: { maxDurationMs: number; maxUses: number };
  console: { denyReasons: string[] };
  signing: { keyringFile: string };
  receipts: { executionWindowMs: number; issuer: string; maxRefusalsPerMinute: number };
  audit: {
    checkpointEvery: number;
    checkpointIntervalMs: number;
    origin: string;
    checkpointCommand: string | undefined;
    verifyIntervalMs: number;
    unreadyWhenTampered: boolean;
  };
  auth: {
    sessions: { idleTimeoutMs: number; absoluteTimeoutMs: number };
    local: {
      scryptLogN: number;
      minPasswordLength: number;
      maxFailuresPerAccount: number;
      maxFailuresPerAddress: number;
      failureWindowMs: number;
      lockoutMs: number;
      resetLinkTtlMs: number;
      setupLinkTtlMs: number;
    };
    /** rpId/origins undefined: derived from the public URL (see domain/identities/passkeys/relying-party.ts). */
    passkeys: { rpId: string | undefined; origins: string[] | undefined; challengeTtlMs: number; recentSignInMs: number };
  };
  events: { retentionMs: number; consumerMaxAttempts: number; consumerLeaseMs: number; pollIntervalMs: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** Single sign-on (`auth.oidc`); undefined when not configured. */
  oidc: OidcConfig | undefined;
  notifications: NotificationsConfig;
  /** SIEM sinks that receive every audit entry (none by default). */
  auditExport: AuditExportConfig;
}
