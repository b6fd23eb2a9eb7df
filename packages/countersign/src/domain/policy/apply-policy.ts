import { stringify as stringifyYaml } from 'yaml';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { type ParsedDocument, parsePolicyDocument } from '../../policy/document.js';
import { loadPolicy } from '../../policy/store.js';
import { parseInput } from '../validate.js';
import { activatePolicy } from './activate-policy.js';
import { ApplyPolicyBody, type PolicyChange } from './schemas.js';
import type { PolicyTrigger } from './versions.js';

export interface ApplyPolicy {
  /** A parsed document (policy/document.ts); HTTP callers send YAML text or the two sections as JSON. */
  document: ParsedDocument;
  note?: string | undefined;
  expectedVersion?: number | undefined;
  trigger?: Extract<PolicyTrigger, 'apply' | 'reload'>;
}

/**
 * Applies a policy document as the new version every node decides with. It is compiled first and
 * refused whole (one invalid_request naming every problem, nothing written) if any rule or stage is bad;
 * a document that compiles to the active policy is a no-op (`changed: false`).
 */
export async function applyPolicy(deps: Deps, actor: Actor, label: string, input: ApplyPolicy): Promise<PolicyChange> {
  // An empty document would silently mean "the built-in defaults"; that has to be asked for by name.
  if (!input.document.definesPolicy) {
    throw new CsError(
      'invalid_request',
      'the document has neither a policy: nor a workflows: section; to apply the built-in defaults, apply "policy: {}"',
    );
  }
  const defaultExpiryMs = deps.config.review.defaultExpiryMs;
  const loaded = loadPolicy(input.document.sections, defaultExpiryMs);
  return activatePolicy(deps, actor, label, {
    loaded,
    document: input.document.text,
    defaultExpiryMs,
    trigger: input.trigger ?? 'apply',
    note: input.note,
    expectedVersion: input.expectedVersion,
  });
}

/**
 * The HTTP body as a parsed document: YAML text as written, or the two sections sent as JSON, kept
 * as sent (durations as written) and stored as YAML. Validated here; a refusal names every problem.
 */
export function documentOfBody(raw: unknown): { document: ParsedDocument; body: ApplyPolicyBody } {
  const body = parseInput(ApplyPolicyBody, raw, 'policy');
  if ('document' in body) return { document: parsePolicyDocument(body.document), body };
  const sent = raw as Record<string, unknown>;
  const sections: Record<string, unknown> = {};
  if (sent.policy !== undefined) sections.policy = sent.policy;
  if (sent.workflows !== undefined) sections.workflows = sent.workflows;
  return { document: parsePolicyDocument(stringifyYaml(sections)), body };
}
