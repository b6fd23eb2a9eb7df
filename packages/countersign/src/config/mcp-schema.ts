import { z } from 'zod';
import { Duration as duration } from '../policy/schema.js';

/**
 * The `mcp` section of the config file: what `countersign mcp proxy` reads. The gateway itself
 * ignores it, so one file can configure both. Unknown keys are errors, as everywhere else.
 */

/** Upstream names become `resource` values and tool-name prefixes, so they stay short and plain. */
export const UpstreamName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'must be 1-32 letters, digits, "_" or "-", starting with a letter or digit');

/** MCP ToolAnnotations hints an operator may set; they replace what the upstream server claims. */
export const ToolHints = z.strictObject({
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});
export type ToolHints = z.infer<typeof ToolHints>;

const stringMap = z.record(z.string().min(1), z.string());

export const McpUpstreamSchema = z
  .strictObject({
    name: UpstreamName,
    /** A stdio server: the command to spawn and its arguments. */
    command: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    /** Added to a minimal inherited environment (PATH, HOME, …); the proxy's own secrets are not passed on. */
    env: stringMap.optional(),
    cwd: z.string().min(1).optional(),
    /** A Streamable HTTP server. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    headers: stringMap.optional(),
    /** Hints for every tool of this server, over what the server says. */
    annotations: ToolHints.optional(),
    /** Hints for single tools (by the upstream's own tool name), over the server-wide ones. */
    tools: z.record(z.string().min(1), z.strictObject({ annotations: ToolHints })).optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.command === undefined) === (s.url === undefined)) ctx.addIssue({ code: 'custom', message: 'set exactly one of command or url' });
    if (s.url !== undefined && (s.args || s.env || s.cwd))
      ctx.addIssue({ code: 'custom', message: 'args, env and cwd apply to a command, not a url' });
    if (s.command !== undefined && s.headers) ctx.addIssue({ code: 'custom', message: 'headers apply to a url, not a command' });
  });
export type McpUpstreamConfig = z.infer<typeof McpUpstreamSchema>;

export const McpConfigSchema = z.strictObject({
  /** The gateway the proxy proposes to; default COUNTERSIGN_URL, else http://127.0.0.1:8700. */
  gateway_url: z.url({ protocol: /^https?$/ }).optional(),
  /** The proxy's agent key; COUNTERSIGN_AGENT_KEY wins over this. Prefer the environment for secrets. */
  agent_key: z.string().min(1).optional(),
  /** Where a person reviews an action, shown to the model and the user; `{id}` is replaced. */
  review_url: z
    .string()
    .refine((v) => v.includes('{id}'), 'must contain {id}')
    .optional(),
  servers: z
    .array(McpUpstreamSchema)
    .min(1)
    .refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'server names must be unique')
    .optional(),
  hold: z
    .strictObject({
      /** Longest hold of a call that carries no progress token; keep it under the client's request time-out. */
      budget: duration.optional(),
      /** Longest hold of a call with a progress token (progress notifications keep the client waiting). */
      progress_budget: duration.optional(),
      /** How often a held call with a progress token is told it is still waiting. */
      progress_interval: duration.optional(),
      /** For 2026-07-28 clients that can open URLs: ask the host's user to review (input_required) instead of holding. */
      input_required: z.boolean().optional(),
    })
    .optional(),
  /** Longest an approved call may run upstream (progress from the upstream resets the clock). */
  upstream_timeout: duration.optional(),
  /** Where first-seen tool definitions are pinned; default ~/.countersign/mcp-pins.json. */
  pins_file: z.string().min(1).optional(),
  listen: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      /** Bearer token MCP clients must send; COUNTERSIGN_MCP_TOKEN wins over this. */
      token: z.string().min(16).optional(),
      /** Host names accepted in the Host header besides the loopback ones (DNS-rebinding protection). */
      allowed_hosts: z.array(z.string().min(1)).optional(),
    })
    .optional(),
});
export type McpConfig = z.infer<typeof McpConfigSchema>;
