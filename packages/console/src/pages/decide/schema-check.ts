import { type Schema, type SchemaDraft, Validator } from '@cfworker/json-schema';

/**
 * The tool's input schema as the MCP proxy declared it (metadata.mcp.tool.input_schema), and what an edit
 * breaks in it. The same reading and the same validator as the gateway (domain/actions/edit-schema.ts),
 * which checks again: this is the reviewer's convenience, the gateway is the authority. The validator
 * interprets the schema, so it runs under the console's CSP (no eval). Loaded only with the editor.
 */
export function declaredInputSchema(metadata: Record<string, unknown>): Schema | null {
  const mcp = metadata.mcp;
  if (mcp === null || typeof mcp !== 'object') return null;
  const tool = (mcp as Record<string, unknown>).tool;
  if (tool === null || typeof tool !== 'object') return null;
  const schema = (tool as Record<string, unknown>).input_schema;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return null;
  if ('omitted' in schema) return null;
  return schema as Schema;
}

const DRAFTS: Record<string, SchemaDraft> = {
  'http://json-schema.org/draft-04/schema#': '4',
  'http://json-schema.org/draft-07/schema#': '7',
  'https://json-schema.org/draft/2019-09/schema': '2019-09',
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
};
const WRAPPERS = new Set(['properties', 'allOf', 'items', 'prefixItems', 'false', '$ref', 'patternProperties']);

export interface SchemaIssue {
  path: string;
  message: string;
}

/** What is wrong with `value` under `schema` (at most 10); null when the schema itself cannot be used. */
export function schemaIssues(schema: Schema, value: unknown): SchemaIssue[] | null {
  let result: ReturnType<Validator['validate']>;
  try {
    result = new Validator(schema, DRAFTS[String(schema.$schema ?? '')] ?? '2020-12', false).validate(value);
  } catch {
    return null;
  }
  if (result.valid) return [];
  const specific = result.errors.filter((e) => !WRAPPERS.has(e.keyword));
  return (specific.length > 0 ? specific : result.errors).slice(0, 10).map((e) => ({
    path: e.instanceLocation === '#' ? '(the arguments)' : e.instanceLocation.replace(/^#/, ''),
    message: e.error,
  }));
}
