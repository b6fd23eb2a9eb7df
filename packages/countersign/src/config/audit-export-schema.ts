import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { assertNever, CsError } from '../lib/errors.js';
import { Duration as duration } from '../policy/schema.js';

/**
 * `audit_export`: streams every audit entry, with its hash and its predecessor's, to SIEMs (docs/operations.md,
 * "Streaming the audit trail to a SIEM"). One cursor per sink name, so renaming a sink starts it afresh.
 */
export const SinkName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'lower-case letters, digits, "_" and "-", starting with a letter (at most 40)');

const common = {
  name: SinkName,
  /** Entries per send (one syslog write, one HTTP request). */
  batch_size: z.number().int().min(1).max(1000).default(100),
  /**
   * Gives up on one send after this long (for HEC with `ack`, the acknowledgement included); the batch is
   * retried with back-off. At most half of `events.consumer_lease`, so a send never outlives its node's lease.
   */
  timeout: duration.default(10_000),
  /** Where a sink seen for the first time starts: the first entry ever (default) or the next one written. */
  start_at: z.enum(['genesis', 'head']).default('genesis'),
};

/** Plain HTTP carries the entries (and a HEC token) readable on the wire: refused unless the host is this machine or the operator says so. */
const httpUrl = z.url({ protocol: /^https?$/ }).max(2000);

const SyslogSink = z.strictObject({
  ...common,
  type: z.literal('syslog'),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  /** RFC 5425 (TLS): `true` trusts the system's CAs; files for a private CA and a client certificate (mutual TLS). */
  tls: z
    .union([
      z.boolean(),
      z.strictObject({
        ca_file: z.string().min(1).optional(),
        cert_file: z.string().min(1).optional(),
        key_file: z.string().min(1).optional(),
        /** The name the server's certificate must carry, when it differs from host. */
        server_name: z.string().min(1).max(253).optional(),
      }),
    ])
    .default(false),
  /** RFC 5424 HOSTNAME (default: this machine's name) and APP-NAME. */
  hostname: z
    .string()
    .regex(/^[!-~]{1,255}$/, 'printable ASCII without spaces')
    .optional(),
  app_name: z
    .string()
    .regex(/^[!-~]{1,48}$/, 'printable ASCII without spaces, at most 48')
    .default('countersign'),
  /** Syslog facility code (default 13, "log audit"). */
  facility: z.number().int().min(0).max(23).default(13),
  /** The structured-data element carrying the entry's ids; an enterprise number of your own, or the documentation one. */
  sd_id: z
    .string()
    .regex(/^[^\s="\]@]{1,32}@\d+(\.\d+)*$/, 'name@enterprise-number, e.g. countersign@32473')
    .default('countersign@32473'),
});

const HecSink = z.strictObject({
  ...common,
  type: z.literal('hec'),
  /** The collector's base URL, e.g. https://splunk.example.com:8088 (POST {url}/services/collector/event). */
  url: httpUrl,
  allow_plain_http: z.boolean().default(false),
  index: z.string().min(1).max(200).optional(),
  source: z.string().min(1).max(200).default('countersign'),
  sourcetype: z.string().min(1).max(200).default('countersign:audit'),
  /** Indexer acknowledgement: a batch counts as delivered only once Splunk says it is indexed. */
  ack: z.boolean().default(false),
});

const OtlpSink = z.strictObject({
  ...common,
  type: z.literal('otlp'),
  /** The collector's OTLP/HTTP base URL, e.g. http://collector:4318 (POST {url}/v1/logs), or the full /v1/logs URL. */
  url: httpUrl,
  allow_plain_http: z.boolean().default(false),
  /** service.name of the resource the records come from. */
  service_name: z.string().min(1).max(200).default('countersign'),
});

const SinkSchema = z.discriminatedUnion('type', [SyslogSink, HecSink, OtlpSink]);

export const AuditExportConfigSchema = z.strictObject({
  sinks: z
    .array(SinkSchema)
    .max(20)
    .default([])
    .refine((s) => new Set(s.map((x) => x.name)).size === s.length, 'sink names must be unique'),
});

export type SyslogSinkConfig = Omit<z.output<typeof SyslogSink>, 'hostname' | 'tls'> & {
  hostname: string;
  /** null: plain TCP. */
  tls: { ca: string | undefined; cert: string | undefined; key: string | undefined; serverName: string | undefined } | null;
};
export type HecSinkConfig = z.output<typeof HecSink> & { token: string };
export type OtlpSinkConfig = z.output<typeof OtlpSink> & { headers: Record<string, string> };
export type SinkConfig = SyslogSinkConfig | HecSinkConfig | OtlpSinkConfig;
export interface AuditExportConfig {
  sinks: SinkConfig[];
}

/** COUNTERSIGN_AUDIT_EXPORT_<NAME>_<WHAT>, the name upper-cased with "-" as "_". */
export function sinkEnvName(name: string, what: 'TOKEN' | 'HEADERS'): string {
  return `COUNTERSIGN_AUDIT_EXPORT_${name.toUpperCase().replaceAll('-', '_')}_${what}`;
}

/** A secret from the environment, or from the file its `_FILE` variable names (container secrets). */
function secretOf(env: NodeJS.ProcessEnv, name: string, cwd: string): string | undefined {
  const direct = env[name];
  if (direct) return direct;
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  return readText(resolve(cwd, file), `${name}_FILE`).trim();
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CsError('invalid_request', `${what}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** OTEL_EXPORTER_OTLP_HEADERS' format: `key=value,key2=value2`, values percent-encoded. */
function parseHeaders(text: string | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim().toLowerCase();
    if (at < 1 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(key)) throw new CsError('invalid_request', `${what}: "${part}" is not key=value`);
    out[key] = decodeURIComponent(part.slice(at + 1).trim());
  }
  return out;
}

function checkPlainHttp(name: string, url: string, allowed: boolean): void {
  const u = new URL(url);
  if (u.protocol === 'https:' || allowed) return;
  if (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]') return;
  throw new CsError('invalid_request', `audit_export sink ${name}: ${url} is plain http; use https, or set allow_plain_http: true`);
}

/** Applies the defaults, reads the secrets and certificate files once, at start-up, so a bad setting stops the gateway there. */
export function resolveAuditExport(
  file: z.output<typeof AuditExportConfigSchema> | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
  leaseMs: number,
): AuditExportConfig {
  const parsed = file ?? AuditExportConfigSchema.parse({});
  for (const s of parsed.sinks) {
    if (s.timeout > leaseMs / 2) {
      throw new CsError(
        'invalid_request',
        `audit_export sink ${s.name}: timeout ${s.timeout}ms is more than half of events.consumer_lease (${leaseMs}ms); raise the lease with it`,
      );
    }
  }
  const path = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const sinks = parsed.sinks.map((s): SinkConfig => {
    switch (s.type) {
      case 'syslog': {
        const t = s.tls === false ? null : s.tls === true ? {} : s.tls;
        const read = (p: string | undefined, key: string) =>
          p === undefined ? undefined : readText(path(p), `audit_export sink ${s.name} tls.${key}`);
        if (t !== null && (t.cert_file === undefined) !== (t.key_file === undefined)) {
          throw new CsError('invalid_request', `audit_export sink ${s.name}: tls needs both cert_file and key_file, or neither`);
        }
        return {
          ...s,
          hostname: s.hostname ?? hostname(),
          tls:
            t === null
              ? null
              : {
                  ca: read(t.ca_file, 'ca_file'),
                  cert: read(t.cert_file, 'cert_file'),
                  key: read(t.key_file, 'key_file'),
                  serverName: t.server_name,
                },
        };
      }
      case 'hec': {
        checkPlainHttp(s.name, s.url, s.allow_plain_http);
        const token = secretOf(env, sinkEnvName(s.name, 'TOKEN'), cwd);
        if (!token)
          throw new CsError('invalid_request', `audit_export sink ${s.name} needs ${sinkEnvName(s.name, 'TOKEN')}: the HEC token`);
        return { ...s, token };
      }
      case 'otlp': {
        checkPlainHttp(s.name, s.url, s.allow_plain_http);
        const envName = sinkEnvName(s.name, 'HEADERS');
        return { ...s, headers: parseHeaders(secretOf(env, envName, cwd), envName) };
      }
      default:
        return assertNever(s, 'audit export sink type');
    }
  });
  return { sinks };
}
