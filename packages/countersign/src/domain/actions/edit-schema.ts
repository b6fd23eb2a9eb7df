import { declaredInputSchema, type SchemaIssue, schemaIssues } from '@countersign/sdk/edit-schema';
import { CsError } from '../../lib/errors.js';

/**
 * The gateway's check of a reviewer's edited arguments against the tool's declared input schema: the same
 * reading and validator the console runs as the reviewer types (@countersign/sdk/edit-schema), enforced here.
 * It only keeps a reviewer from approving arguments the tool itself would refuse; policy and the review decide
 * authority. Refuses edited arguments that break the declared input schema (400 invalid_request, one issue per
 * error).
 */
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
