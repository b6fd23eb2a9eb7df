import { type Schema, type SchemaDraft, Validator } from '@cfworker/json-schema';
import { CsError } from '../../lib/errors.js';

/**
 * A reviewer's edited arguments checked against the tool's input schema, when the action carries one: the
 * MCP proxy sends the definition it proposes the call against as `metadata.mcp.tool.input_schema`
 * (mcp/classify.ts). Metadata is the agent's word, so a lying agent can only make edits harder to send,
 * never let an edit past a rule: policy and the review decide authority, this only keeps a reviewer from
 * approving arguments the tool itself would refuse. The console runs the same check as a convenience.
 *
 * The validator interprets the schema (no code generation), with every error collected.
 */
export function declaredInputSchema(metadata: Record<string, unknown>): Schema | null {
  const mcp = metadata.mcp;
  if (mcp === null || typeof mcp !== 'object') return null;
  const tool = (mcp as Record<string, unknown>).tool;
  if (tool === null || typeof tool !== 'object') return null;
  const schema = (tool as Record<string, unknown>).input_schema;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return null;
  // A schema too long for the metadata is sent as its size and hash: nothing to check against.
  if ('omitted' in schema) return null;
  return schema as Schema;
}

const DRAFTS: Record<string, SchemaDraft> = {
  'http://json-schema.org/draft-04/schema#': '4',
  'http://json-schema.org/draft-07/schema#': '7',
  'https://json-schema.org/draft/2019-09/schema': '2019-09',
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
};

/** Wrapper errors ("property x does not match") that only repeat the specific one beneath them. */
const WRAPPERS = new Set(['properties', 'allOf', 'items', 'prefixItems', 'false', '$ref', 'patternProperties']);
const MAX_ISSUES = 10;

export interface SchemaIssue {
  path: string;
  message: string;
}

/** What is wrong with `value` under `schema`; null when the schema itself cannot be used. */
export function schemaIssues(schema: Schema, value: unknown): SchemaIssue[] | null {
  let result: ReturnType<Validator['validate']>;
  try {
    const draft = DRAFTS[String(schema.$schema ?? '')] ?? '2020-12';
    result = new Validator(schema, draft, false).validate(value);
  } catch {
    return null;
  }
  if (result.valid) return [];
  const specific = result.errors.filter((e) => !WRAPPERS.has(e.keyword));
  return (specific.length > 0 ? specific : result.errors).slice(0, MAX_ISSUES).map((e) => ({
    path: e.instanceLocation === '#' ? '(the arguments)' : e.instanceLocation.replace(/^#/, ''),
    message: e.error,
  }));
}

/** Refuses edited arguments that break the declared input schema (400 invalid_request, one issue per error). */
export function checkEditedArguments(metadataText: string, edited: Record<string, unknown>): void {
  let metadata: unknown;
  try {
    metadata = JSON.parse(metadataText);
  } catch {
    return;
  }
  if (metadata === null || typeof metadata !== 'object') return;
  const schema = declaredInputSchema(metadata as Record<string, unknown>);
  if (schema === null) return;
  const issues = schemaIssues(schema, edited);
  if (issues === null || issues.length === 0) return;
  const first = issues[0] as SchemaIssue;
  throw new CsError(
    'invalid_request',
    `the edited arguments do not match the tool's input schema (as declared by the MCP proxy): ${first.path}: ${first.message}`,
    { issues: issues.map((i) => ({ path: `arguments${i.path.startsWith('/') ? i.path : ''}`, message: i.message })) },
  );
}
