import type { PolicyInput } from './cel-env.js';
import { type CompiledPolicy, type CompiledRule, DEFAULT_WORKFLOW_NAME } from './compile-policy.js';
import type { Effect } from './schema.js';

export interface RuleEvaluationError {
  rule: string;
  message: string;
}

export interface PolicyDecision {
  effect: Effect;
  /** The deciding rule's name, or "default" when no rule matched. */
  rule: string;
  /** For review: the rule's workflow, or "default". Null for allow and deny. */
  workflow: string | null;
  reason: string | null;
  /** Conditions that failed to evaluate on the way; each one is recorded, none of them allows. */
  errors: RuleEvaluationError[];
}

const NO_RULES: readonly CompiledRule[] = [];

/**
 * First match wins, scanning only the rules that can match `input.tool`: the ones indexed under
 * that tool merged, in policy order, with the generic ones. A rule whose condition cannot be
 * evaluated is recorded and skipped; after that, an allow (a rule's or the default) becomes a
 * review in the default workflow, a deny still denies, and a review stays a review.
 */
export function evaluatePolicy(p: CompiledPolicy, input: PolicyInput): PolicyDecision {
  const own = p.byTool.get(input.tool) ?? NO_RULES;
  const generic = p.generic;
  let errors: RuleEvaluationError[] | null = null;
  let i = 0;
  let j = 0;
  while (i < own.length || j < generic.length) {
    const a = own[i];
    const b = generic[j];
    let rule: CompiledRule;
    if (a !== undefined && (b === undefined || a.index < b.index)) {
      rule = a;
      i++;
      if (rule.toolOnly) return decide(rule, errors);
    } else {
      rule = b as CompiledRule;
      j++;
    }
    try {
      if (rule.condition.evaluate(input)) return decide(rule, errors);
    } catch (e) {
      errors ??= [];
      errors.push({ rule: rule.name, message: (e as Error).message });
    }
  }
  return decideDefault(p, errors);
}

/** Every rule in order with its full condition, no index and no shortcut: the reference the index must agree with. */
export function evaluatePolicyUnindexed(p: CompiledPolicy, input: PolicyInput): PolicyDecision {
  let errors: RuleEvaluationError[] | null = null;
  for (const rule of p.rules) {
    try {
      if (rule.condition.evaluate(input)) return decide(rule, errors);
    } catch (e) {
      errors ??= [];
      errors.push({ rule: rule.name, message: (e as Error).message });
    }
  }
  return decideDefault(p, errors);
}

function decide(rule: CompiledRule, errors: RuleEvaluationError[] | null): PolicyDecision {
  return outcome(rule.effect, rule.name, rule.workflow, rule.reason, errors);
}

function decideDefault(p: CompiledPolicy, errors: RuleEvaluationError[] | null): PolicyDecision {
  return outcome(p.default, 'default', p.defaultWorkflow, null, errors);
}

function outcome(
  effect: Effect,
  rule: string,
  workflow: string | null,
  reason: string | null,
  errors: RuleEvaluationError[] | null,
): PolicyDecision {
  if (errors === null) return { effect, rule, workflow, reason, errors: [] };
  // An error might have hidden a deny or a review; an allow reached past it is not trusted.
  if (effect === 'allow') {
    const failed = [...new Set(errors.map((e) => e.rule))].join(', ');
    const why = `a person must check: ${errors.length === 1 ? 'a policy condition' : 'policy conditions'} failed to evaluate (${failed})`;
    return { effect: 'review', rule, workflow: DEFAULT_WORKFLOW_NAME, reason: why, errors };
  }
  return { effect, rule, workflow, reason, errors };
}
