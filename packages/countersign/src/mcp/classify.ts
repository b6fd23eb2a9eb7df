import type { ProposedAction } from '@countersign/sdk';
import type { Tool } from '@modelcontextprotocol/client';
import type { CatalogueEntry } from './catalogue.js';
import { definitionOf, type PinCheck } from './pins.js';
import type { UpstreamSpec } from './settings.js';

export interface Hints {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/**
 * The MCP spec's ToolAnnotations defaults: a tool that says nothing may write, destroy and reach
 * the outside world. So an unannotated tool is never "read-only" and the default policy holds it.
 */
export const SPEC_DEFAULT_HINTS: Readonly<Hints> = Object.freeze({
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
});

const HINT_KEYS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;

/**
 * What a tool's calls are classified by: the spec defaults, overlaid by what the upstream claims,
 * overlaid by the operator's per-server and per-tool settings. A tool whose definition no longer
 * matches its pin gets the defaults whatever anyone claims, so no annotation rule can let it through.
 */
export function effectiveHints(spec: UpstreamSpec, tool: Tool, pin: PinCheck): Hints {
  if (pin.changed) return { ...SPEC_DEFAULT_HINTS };
  return { ...SPEC_DEFAULT_HINTS, ...booleanHints(tool.annotations), ...spec.annotations, ...spec.tools[tool.name] };
}

/** Only boolean hints are taken from the upstream; anything else there is ignored, not trusted. */
function booleanHints(annotations: unknown): Partial<Hints> {
  if (annotations === null || typeof annotations !== 'object') return {};
  const out: Partial<Hints> = {};
  for (const k of HINT_KEYS) {
    const v = (annotations as Record<string, unknown>)[k];
    if (typeof v === 'boolean') out[k] = v;
  }
  return out;
}

const MAX_DESCRIPTION_IN_METADATA = 2048;

/**
 * The proposed action for one `tools/call`: the upstream's own tool name (stable whatever the
 * downstream name), the arguments as given, the upstream server as the resource, the hints that
 * classify it, and where it came from. Deterministic for a given call, so a retried proposal
 * matches its Idempotency-Key.
 */
export function toProposal(entry: CatalogueEntry, args: Record<string, unknown>, sessionId: string): ProposedAction {
  const mcp: Record<string, unknown> = { server: entry.upstream.name, exposed_name: entry.name };
  if (entry.pin.changed) {
    const now = definitionOf(entry.tool);
    mcp.definition_changed = {
      fields: entry.pin.fields,
      pinned_at: entry.pin.pinned.pinned_at,
      pinned: { description: clip(entry.pin.pinned.description), annotations: entry.pin.pinned.annotations },
      current: { description: clip(now.description), annotations: now.annotations },
    };
  }
  return {
    tool: entry.tool.name,
    arguments: args,
    resource: entry.upstream.name,
    annotations: { ...entry.hints },
    session_id: sessionId,
    metadata: { mcp },
  };
}

function clip(text: string | null): string | null {
  return text === null || text.length <= MAX_DESCRIPTION_IN_METADATA ? text : `${text.slice(0, MAX_DESCRIPTION_IN_METADATA)}…`;
}
