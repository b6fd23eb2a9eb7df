import type { ProposedAction } from '@countersign/sdk';
import type { Tool } from '@modelcontextprotocol/client';
import { canonicalJson, sha256Hex } from '../lib/canonical.js';
import type { CatalogueEntry } from './catalogue.js';
import { type Definition, definitionOf, type PinField, type PinState } from './pins.js';
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
export function effectiveHints(spec: UpstreamSpec, tool: Tool, pin: PinState): Hints {
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
const MAX_SCHEMA_IN_METADATA = 8192;

/**
 * The proposed action for one `tools/call`: the upstream's own tool name (stable whatever the
 * downstream name), the arguments as given, the upstream server as the resource, the hints that
 * classify it, and where it came from. Deterministic for a given call, so a retried proposal
 * matches its Idempotency-Key.
 */
export function toProposal(entry: CatalogueEntry, args: Record<string, unknown>, sessionId: string): ProposedAction {
  return {
    tool: entry.tool.name,
    arguments: args,
    resource: entry.upstream.name,
    annotations: { ...entry.hints },
    session_id: sessionId,
    metadata: { mcp: entry.metadata },
  };
}

/**
 * The `mcp` metadata of every proposal of one catalogue entry: where the tool lives and the
 * definition it is proposed (and so reviewed) against. It depends on the entry alone, so the
 * catalogue works it out (canonical JSON, hashes) once per entry, not once per call.
 */
export function proposalMetadata(entry: Omit<CatalogueEntry, 'metadata'>): Readonly<Record<string, unknown>> {
  // The definition the call is proposed (and so reviewed) against; the proxy refuses to run it against another.
  const mcp: Record<string, unknown> = {
    server: entry.upstream.name,
    exposed_name: entry.name,
    definition: entry.fingerprint,
    tool: declaredTool(entry.tool),
  };
  if ('unpinned' in entry.pin) {
    mcp.definition_unpinned = entry.pin.unpinned;
  } else if (entry.pin.changed) {
    const { fields, pinned } = entry.pin;
    mcp.definition_changed = {
      fields,
      pinned_at: pinned.pinned_at,
      pinned: shownDefinition(pinned, fields),
      current: shownDefinition(definitionOf(entry.tool), fields),
    };
  }
  return Object.freeze(mcp);
}

/**
 * The definition the call is proposed against, for the reviewer: its text, hints and input schema
 * (bounded), so a reviewer can read what the tool says it does and edit the arguments against its schema.
 */
function declaredTool(tool: Tool): Record<string, unknown> {
  const d = definitionOf(tool);
  return { description: clip(d.description), annotations: d.annotations, input_schema: boundedJson(d.input_schema) };
}

type Shown = Pick<Definition, 'description' | 'annotations'> & Partial<Pick<Definition, 'input_schema' | 'output_schema'>>;

/**
 * What a reviewer is shown of one side of a changed definition: the text and hints always, a
 * schema only when it is what changed (schemas can be long, and an unchanged one says nothing).
 */
function shownDefinition(d: Shown, fields: readonly PinField[]): Record<string, unknown> {
  const out: Record<string, unknown> = { description: clip(d.description), annotations: d.annotations };
  if (fields.includes('input_schema')) out.input_schema = boundedJson(d.input_schema);
  if (fields.includes('output_schema')) out.output_schema = boundedJson(d.output_schema);
  return out;
}

/** A schema too large for a proposal's metadata is replaced by its size and hash (the pin file has it whole). */
function boundedJson(value: Record<string, unknown> | null | undefined): unknown {
  if (value === undefined || value === null) return null;
  const text = canonicalJson(value);
  return text.length <= MAX_SCHEMA_IN_METADATA ? value : { omitted: 'too long to show here', bytes: text.length, sha256: sha256Hex(text) };
}

function clip(text: string | null): string | null {
  return text === null || text.length <= MAX_DESCRIPTION_IN_METADATA ? text : `${text.slice(0, MAX_DESCRIPTION_IN_METADATA)}…`;
}
