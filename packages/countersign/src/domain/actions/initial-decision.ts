import type { Config } from '../../config/schema.js';
import type { ProposeActionBody } from './schemas.js';

export interface InitialDecision {
  effect: 'allow' | 'review';
  rule: string;
  workflow: string | null;
  expiresAt: number | null;
}

/**
 * The built-in rule until the policy engine lands: an MCP read-only hint is
 * allowed at once, everything else waits for any reviewer and fails closed on
 * expiry. The result is frozen into the action when it is created.
 */
export function decideInitial(config: Config, input: ProposeActionBody, now: number): InitialDecision {
  if (input.annotations?.readOnlyHint === true) {
    return { effect: 'allow', rule: 'builtin:read-only', workflow: null, expiresAt: null };
  }
  return { effect: 'review', rule: 'builtin:default', workflow: 'default', expiresAt: now + config.review.defaultExpiryMs };
}
