import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CsError } from '../lib/errors.js';
import { withDefaultRules, withDefaultWorkflow } from '../policy/defaults.js';
import type { PolicySections } from '../policy/document.js';
import { resolveAuditExport } from './audit-export-schema.js';
import { resolveNotifications } from './notify-schema.js';
import { resolveOidc } from './oidc-schema.js';
import { type Config, type ConfigFile, ConfigFileSchema } from './schema.js';

export interface LoadConfigOptions {
  /** Path to a YAML config file; when absent only defaults, env and overrides apply. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Command-line flags; they win over env and file. */
  overrides?: { dataDir?: string | undefined; port?: number | undefined; host?: string | undefined; databaseUrl?: string | undefined };
  cwd?: string;
}

export const DEFAULT_PORT = 8700;

/** The deny reasons the console offers when the config names none (console.deny_reasons). */
export const DEFAULT_DENY_REASONS: readonly string[] = [
  'Not what was asked for',
  'Wrong target or environment',
  'Too risky: find a safer way',
  'Needs a ticket or change request first',
];

/** Reads, validates and resolves configuration once at start-up. Errors name the offending key. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file = opts.file ?? env.COUNTERSIGN_CONFIG;
  const path = file ? resolve(cwd, file) : undefined;
  return resolveConfig(parseConfigFile(path), path, env, opts.overrides ?? {}, cwd);
}

/** Reads and validates the config file (or `{}` with none); errors name every offending key. */
export function parseConfigFile(path: string | undefined): ConfigFile {
  const raw = path ? readConfigFile(path) : {};
  const parsed = ConfigFileSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  throw new CsError(
    'invalid_request',
    `invalid config${path ? ` in ${path}` : ''}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    {
      issues,
    },
  );
}

/** The policy part of a parsed config file, with the built-in defaults filled in. */
export function policySection(file: ConfigFile): Pick<Config, 'policy' | 'workflows'> {
  return { policy: withDefaultRules(file.policy), workflows: withDefaultWorkflow(file.workflows) };
}

/** What a config seeds the policy store with: its policy, workflows and notification routes. */
export function policySectionsOf(config: Pick<Config, 'policy' | 'workflows' | 'notifications'>): PolicySections {
  return { policy: config.policy, workflows: config.workflows, routes: config.notifications.routes };
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CsError('invalid_request', `cannot read config file ${path}: ${(e as Error).message}`);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new CsError('invalid_request', `config file ${path} is not valid YAML${where}: ${(e as Error).message.split('\n')[0]}`);
  }
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    throw new CsError('invalid_request', `public URL "${url}" is not a URL`);
  }
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new CsError('invalid_request', `${name} must be a whole number, got "${v}"`);
  return Number(v);
}

/**
 * Node's own defaults leave a stalled request body open for ever (Fastify turns requestTimeout off) and
 * headers for a minute; these close a connection that holds a request slot without finishing it. They
 * cover receiving the request only: a long-poll or an event stream is a long response, never cut.
 */
function serverTimeouts(file: ConfigFile): Pick<Config['server'], 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'> {
  const headersTimeoutMs = file.server?.headers_timeout ?? 10_000;
  const requestTimeoutMs = file.server?.request_timeout ?? 30_000;
  const keepAliveTimeoutMs = file.server?.keep_alive_timeout ?? 72_000;
  for (const [key, ms] of [
    ['headers_timeout', headersTimeoutMs],
    ['request_timeout', requestTimeoutMs],
    ['keep_alive_timeout', keepAliveTimeoutMs],
  ] as const) {
    if (ms < 100) throw new CsError('invalid_request', `server.${key} must be at least 100ms (0 would turn it off), got ${ms}ms`);
  }
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new CsError(
      'invalid_request',
      'server.headers_timeout must not be longer than server.request_timeout (the headers are part of the request)',
    );
  }
  return { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs };
}

function eventsPollInterval(file: ConfigFile): number {
  const ms = file.events?.poll_interval ?? 1000;
  // Each poll is one indexed read per gateway; below this it is load, not safety.
  if (ms < 50) throw new CsError('invalid_request', `events.poll_interval must be at least 50ms, got ${ms}ms`);
  return ms;
}

function resolveConfig(
  file: ConfigFile,
  path: string | undefined,
  env: NodeJS.ProcessEnv,
  o: NonNullable<LoadConfigOptions['overrides']>,
  cwd: string,
): Config {
  const dataDirRaw = o.dataDir ?? env.COUNTERSIGN_DATA_DIR ?? file.data_dir ?? '.countersign';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);
  const databaseUrl = o.databaseUrl ?? env.COUNTERSIGN_DATABASE_URL ?? file.database?.url ?? `sqlite:${resolve(dataDir, 'countersign.db')}`;
  const level = env.COUNTERSIGN_LOG_LEVEL ?? file.log?.level ?? 'info';
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  if (!(levels as readonly string[]).includes(level)) {
    throw new CsError('invalid_request', `COUNTERSIGN_LOG_LEVEL must be one of ${levels.join(', ')}`);
  }
  const port = o.port ?? envInt(env, 'COUNTERSIGN_PORT') ?? file.server?.port ?? DEFAULT_PORT;
  const publicUrl = env.COUNTERSIGN_PUBLIC_URL ?? file.server?.public_url;
  if (port > 65535) throw new CsError('invalid_request', `port ${port} is out of range`);
  return {
    dataDir,
    server: {
      host: o.host ?? env.COUNTERSIGN_HOST ?? file.server?.host ?? '127.0.0.1',
      port,
      publicUrl,
      bodyLimitBytes: file.server?.body_limit_bytes ?? 1024 * 1024,
      trustProxy: file.server?.trust_proxy ?? false,
      ...serverTimeouts(file),
    },
    database: {
      url: databaseUrl,
      poolSize: file.database?.pool_size ?? 10,
      connectTimeoutMs: file.database?.connect_timeout ?? 5_000,
      listenUrl: env.COUNTERSIGN_DATABASE_LISTEN_URL ?? file.database?.listen_url,
    },
    review: { defaultExpiryMs: file.review?.default_expiry ?? 3_600_000 },
    limits: {
      reasonBytes: file.limits?.reason_bytes ?? 4096,
      argumentsBytes: file.limits?.arguments_bytes ?? 256 * 1024,
      argumentsDepth: file.limits?.arguments_depth ?? 32,
      maxWaitSeconds: file.limits?.max_wait_seconds ?? 60,
    },
    configFile: path,
    ...policySection(file),
    policySource: file.policy_source ?? 'database',
    grants: { maxDurationMs: file.grants?.max_duration ?? 86_400_000, maxUses: file.grants?.max_uses ?? 1000 },
    console: { denyReasons: file.console?.deny_reasons ?? [...DEFAULT_DENY_REASONS] },
    signing: {
      keyringFile: resolve(cwd, env.COUNTERSIGN_SIGNING_KEYRING ?? file.signing?.keyring_file ?? resolve(dataDir, 'signing-keys.json')),
    },
    receipts: {
      executionWindowMs: file.receipts?.execution_window ?? 600_000,
      issuer: file.receipts?.issuer ?? publicUrl ?? 'countersign',
      maxRefusalsPerMinute: file.receipts?.max_refusals_per_minute ?? 30,
    },
    audit: {
      checkpointEvery: file.audit?.checkpoint_every ?? 1000,
      checkpointIntervalMs: file.audit?.checkpoint_interval ?? 60_000,
      origin: file.audit?.origin ?? hostOf(publicUrl) ?? 'countersign',
      checkpointCommand: file.audit?.checkpoint_command,
      verifyIntervalMs: file.audit?.verify_interval ?? 3_600_000,
      unreadyWhenTampered: file.audit?.unready_when_tampered ?? false,
    },
    events: {
      retentionMs: file.events?.retention ?? 7 * 86_400_000,
      consumerMaxAttempts: file.events?.consumer_max_attempts ?? 8,
      consumerLeaseMs: file.events?.consumer_lease ?? 30_000,
      pollIntervalMs: eventsPollInterval(file),
    },
    auth: authSection(file),
    log: { level: level as Config['log']['level'] },
    oidc: resolveOidc(file.auth?.oidc, publicUrl, env, cwd),
    notifications: resolveNotifications(file.notifications, env, publicUrl),
    auditExport: resolveAuditExport(file.audit_export, env, cwd, file.events?.consumer_lease ?? 30_000),
  };
}

/** Sign-in defaults: OWASP's session guidance (idle 2h for a tool people keep open, absolute 12h) and scrypt at N=2^17. */
function authSection(file: ConfigFile): Config['auth'] {
  const s = file.auth?.sessions;
  const l = file.auth?.local;
  const idleTimeoutMs = s?.idle_timeout ?? 2 * 3_600_000;
  const absoluteTimeoutMs = s?.absolute_timeout ?? 12 * 3_600_000;
  if (idleTimeoutMs > absoluteTimeoutMs) {
    throw new CsError('invalid_request', 'auth.sessions.idle_timeout must not be longer than auth.sessions.absolute_timeout');
  }
  return {
    sessions: { idleTimeoutMs, absoluteTimeoutMs },
    local: {
      scryptLogN: l?.scrypt_log_n ?? 17,
      minPasswordLength: l?.min_password_length ?? 12,
      maxFailuresPerAccount: l?.max_failures_per_account ?? 5,
      maxFailuresPerAddress: l?.max_failures_per_address ?? 50,
      failureWindowMs: l?.failure_window ?? 15 * 60_000,
      lockoutMs: l?.lockout ?? 60_000,
      resetLinkTtlMs: l?.reset_link_ttl ?? 3_600_000,
      setupLinkTtlMs: l?.setup_link_ttl ?? 3_600_000,
    },
    passkeys: {
      rpId: file.auth?.passkeys?.rp_id,
      // An origin is scheme://host[:port]; a path or a trailing slash would never match what browsers report.
      origins: file.auth?.passkeys?.origins?.map((o) => new URL(o).origin),
      challengeTtlMs: file.auth?.passkeys?.challenge_ttl ?? 300_000,
      recentSignInMs: file.auth?.passkeys?.recent_sign_in ?? 600_000,
    },
  };
}
