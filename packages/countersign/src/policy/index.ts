export {
  type CompiledCondition,
  ConditionError,
  compileCondition,
  compileConditionUncached,
  type PolicyInput,
  withAnnotationDefaults,
} from './cel-env.js';
export {
  type CompiledPolicy,
  type CompiledRule,
  compilePolicy,
  DEFAULT_WORKFLOW_NAME,
  PolicyError,
  type PolicyIssue,
  toolTest,
} from './compile-policy.js';
export { evaluatePolicy, evaluatePolicyUnindexed, type PolicyDecision, type RuleEvaluationError } from './evaluate.js';
export { DYNAMIC_COMMAND, type ShellCommand, ShellParseError, shellCommands } from './shell.js';
