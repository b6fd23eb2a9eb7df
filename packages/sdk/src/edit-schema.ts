import { type Schema, type SchemaDraft, Validator } from '@cfworker/json-schema';

/**
 * A reviewer's edited arguments against the tool's input schema, when the action carries one: the MCP proxy
 * sends the definition it proposes the call against as `metadata.mcp.tool.input_schema`. One reading and one
 * validator for every client that lets a reviewer edit (the console shows the issues as the reviewer types)
 * and for the gateway, which checks again and is the authority (domain/actions/edit-schema.ts).
 *
 * Metadata is the agent's word, so a lying agent can only make edits harder to send, never let an edit past
 * a rule. The validator interprets the schema (no code generation, so it runs under the console's CSP), with
 * every error collected.
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
  /** A JSON pointer into the arguments, or `(the arguments)` for the whole value. */
  path: string;
  message: string;
}

/** What is wrong with `value` under `schema` (at most ten); null when the schema itself cannot be used. */
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
