import { homedir } from 'node:os';
import { basename, isAbsolute, resolve } from 'node:path';
import type { McpConfig, McpUpstreamConfig, ToolHints } from '../config/mcp-schema.js';
import { UpstreamName } from '../config/mcp-schema.js';
import { CsError } from '../lib/errors.js';

interface UpstreamCommon {
  name: string;
  /** Operator hints for every tool of this server. */
  annotations: ToolHints;
  /** Operator hints per upstream tool name. */
  tools: Record<string, ToolHints>;
}

export type UpstreamSpec =
  | (UpstreamCommon & { kind: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd: string | undefined })
  | (UpstreamCommon & { kind: 'http'; url: string; headers: Record<string, string> });

export interface HoldSettings {
  /** Longest hold without a progress token. */
  budgetMs: number;
  /** Longest hold with a progress token. */
  progressBudgetMs: number;
  progressIntervalMs: number;
  /** Offer 2026-07-28 clients the input_required (URL elicitation) path. */
  inputRequired: boolean;
}

export interface ListenSettings {
  host: string;
  port: number;
  token: string;
  allowedHosts: string[];
}

/** Everything the proxy needs, resolved once: defaults < config file < environment < flags. */
export interface ProxySettings {
  gateway: { url: string; agentKey: string };
  /** Template with `{id}`. */
  reviewUrl: string;
  upstreams: UpstreamSpec[];
  hold: HoldSettings;
  upstreamTimeoutMs: number;
  /** The JSON file where first-seen tool definitions are pinned across restarts. */
  pinsFile: string;
  listen: ListenSettings | undefined;
}

/** What the command line can say; each field wins over the config file and the environment. */
export interface ProxyFlags {
  name?: string | undefined;
  command?: string[] | undefined;
  upstreamUrl?: string | undefined;
  headers?: string[] | undefined;
  gatewayUrl?: string | undefined;
  listen?: string | undefined;
  host?: string | undefined;
  pinsFile?: string | undefined;
}

export const DEFAULT_HOLD: HoldSettings = {
  budgetMs: 45_000,
  progressBudgetMs: 600_000,
  progressIntervalMs: 10_000,
  inputRequired: true,
};
const DEFAULT_UPSTREAM_TIMEOUT_MS = 600_000;
const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8700';

/**
 * Resolves the proxy's settings from the config file's `mcp` section, the environment
 * (`COUNTERSIGN_URL`, `COUNTERSIGN_AGENT_KEY`, `COUNTERSIGN_MCP_TOKEN`) and the command line.
 * An upstream given on the command line replaces the file's `servers`; the rest of the section
 * still applies. Throws `invalid_request` naming the first problem.
 */
export function resolveProxySettings(file: McpConfig | undefined, env: NodeJS.ProcessEnv, flags: ProxyFlags, cwd: string): ProxySettings {
  const cfg = file ?? {};
  const gatewayUrl = trimSlash(flags.gatewayUrl ?? nonEmpty(env.COUNTERSIGN_URL) ?? cfg.gateway_url ?? DEFAULT_GATEWAY_URL);
  checkHttpUrl(gatewayUrl, 'the gateway URL');
  const agentKey = nonEmpty(env.COUNTERSIGN_AGENT_KEY) ?? cfg.agent_key;
  if (!agentKey) throw new CsError('invalid_request', 'set COUNTERSIGN_AGENT_KEY to the agent key the proxy proposes with');
  const upstreams = commandLineUpstream(flags, cwd) ?? (cfg.servers ?? []).map((s) => fromConfig(s, cwd));
  if (upstreams.length === 0) {
    throw new CsError(
      'invalid_request',
      'no upstream MCP server: give one after "--", or --upstream-url, or mcp.servers in the config file',
    );
  }
  const hold = resolveHold(cfg.hold);
  return {
    gateway: { url: gatewayUrl, agentKey },
    // The reviewer console's page of the action (it signs the person in first and comes back).
    reviewUrl: cfg.review_url ?? `${gatewayUrl}/actions/{id}`,
    upstreams,
    hold,
    upstreamTimeoutMs: cfg.upstream_timeout ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    pinsFile: resolvePinsFile(cfg, flags.pinsFile, cwd),
    listen: resolveListen(cfg.listen, env, flags),
  };
}

/** The pin file: --pins, else the config's `pins_file`, else ~/.countersign/mcp-pins.json (the proxy and `mcp pins` agree). */
export function resolvePinsFile(file: McpConfig | undefined, flag: string | undefined, cwd: string): string {
  return resolve(cwd, expandHome(flag ?? file?.pins_file ?? '~/.countersign/mcp-pins.json'));
}

function resolveHold(h: McpConfig['hold']): HoldSettings {
  const hold: HoldSettings = {
    budgetMs: h?.budget ?? DEFAULT_HOLD.budgetMs,
    progressBudgetMs: h?.progress_budget ?? DEFAULT_HOLD.progressBudgetMs,
    progressIntervalMs: h?.progress_interval ?? DEFAULT_HOLD.progressIntervalMs,
    inputRequired: h?.input_required ?? DEFAULT_HOLD.inputRequired,
  };
  // A zero interval would spin; a zero budget is allowed (answer "pending" at once).
  if (hold.progressIntervalMs < 100) throw new CsError('invalid_request', 'mcp.hold.progress_interval must be at least 100ms');
  return hold;
}

function resolveListen(l: McpConfig['listen'], env: NodeJS.ProcessEnv, flags: ProxyFlags): ListenSettings | undefined {
  if (flags.listen === undefined) return undefined;
  if (!/^\d{1,5}$/.test(flags.listen) || Number(flags.listen) > 65535) {
    throw new CsError('invalid_request', `--listen must be a port number, got "${flags.listen}"`);
  }
  const token = nonEmpty(env.COUNTERSIGN_MCP_TOKEN) ?? l?.token;
  if (!token) throw new CsError('invalid_request', 'with --listen, set COUNTERSIGN_MCP_TOKEN (or mcp.listen.token): clients must send it');
  if (token.length < 16) throw new CsError('invalid_request', 'COUNTERSIGN_MCP_TOKEN must be at least 16 characters');
  return { host: flags.host ?? l?.host ?? '127.0.0.1', port: Number(flags.listen), token, allowedHosts: l?.allowed_hosts ?? [] };
}

function commandLineUpstream(flags: ProxyFlags, cwd: string): UpstreamSpec[] | undefined {
  const command = flags.command ?? [];
  if (command.length > 0 && flags.upstreamUrl)
    throw new CsError('invalid_request', 'give either a command after "--" or --upstream-url, not both');
  if (flags.headers?.length && !flags.upstreamUrl) throw new CsError('invalid_request', '--header applies to --upstream-url');
  const common = { annotations: {}, tools: {} };
  if (flags.upstreamUrl) {
    checkHttpUrl(flags.upstreamUrl, '--upstream-url');
    const name = upstreamName(flags.name ?? sanitizeName(new URL(flags.upstreamUrl).hostname.replace(/^www\./, '')));
    return [{ ...common, kind: 'http', name, url: flags.upstreamUrl, headers: parseHeaders(flags.headers ?? []) }];
  }
  const [cmd, ...args] = command;
  if (cmd === undefined) {
    if (flags.name !== undefined) throw new CsError('invalid_request', '--name names an upstream given on the command line');
    return undefined;
  }
  const name = upstreamName(flags.name ?? guessName(cmd, args));
  return [{ ...common, kind: 'stdio', name, command: cmd, args, env: {}, cwd }];
}

function fromConfig(s: McpUpstreamConfig, cwd: string): UpstreamSpec {
  const common = {
    name: s.name,
    annotations: s.annotations ?? {},
    tools: Object.fromEntries(Object.entries(s.tools ?? {}).map(([k, v]) => [k, v.annotations])),
  };
  if (s.url !== undefined) return { ...common, kind: 'http', url: s.url, headers: s.headers ?? {} };
  // The schema guarantees a command when there is no url.
  const command = s.command ?? '';
  return {
    ...common,
    kind: 'stdio',
    command,
    args: s.args ?? [],
    env: s.env ?? {},
    cwd: s.cwd === undefined ? cwd : isAbsolute(s.cwd) ? s.cwd : resolve(cwd, s.cwd),
  };
}

/** Runners (`npx pkg`, `node script.js`) say little; the package or script names the server better. */
const RUNNERS = new Set(['node', 'npx', 'bunx', 'uvx', 'uv', 'python', 'python3', 'deno', 'bun', 'pnpm', 'yarn', 'docker']);
/** Path segments that say nothing about which server it is: `…/server-memory/dist/index.js` is "server-memory". */
const GENERIC = new Set(['index', 'main', 'cli', 'dist', 'build', 'lib', 'src', 'bin', 'out', '.bin', 'node_modules']);

/** A readable default name for a command-line upstream, e.g. `npx -y @scope/server-memory` → `server-memory`. */
export function guessName(command: string, args: string[]): string {
  const base = basename(command).replace(/\.(c|m)?js$|\.exe$/, '');
  const target = RUNNERS.has(base) ? (args.find((a) => !a.startsWith('-') && a !== 'run') ?? base) : command;
  const segments = target
    .replace(/(.)@[^/@]*$/, '$1') // a version suffix (pkg@1.2), not a leading @scope
    .split(/[\\/]/)
    .map((seg) => seg.replace(/\.(c|m)?(js|ts)$|\.py$/, ''))
    .filter((seg) => seg !== '' && !GENERIC.has(seg));
  return sanitizeName(segments.at(-1) ?? base);
}

function sanitizeName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[-_]+/, '');
  return cleaned.slice(0, 32) || 'upstream';
}

function upstreamName(name: string): string {
  const parsed = UpstreamName.safeParse(name);
  if (!parsed.success) throw new CsError('invalid_request', `upstream name "${name}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
  return parsed.data;
}

function parseHeaders(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    const name = i > 0 ? h.slice(0, i).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new CsError('invalid_request', `--header must be "Name: value", got "${h}"`);
    out[name] = h.slice(i + 1).trim();
  }
  return out;
}

function checkHttpUrl(url: string, what: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CsError('invalid_request', `${what} "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CsError('invalid_request', `${what} must be http(s), got "${url}"`);
}

/** `~/x` in a config file means the home directory, as a shell would read it. */
const expandHome = (path: string) => (path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path);
const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
const trimSlash = (url: string) => url.replace(/\/+$/, '');
