import type { ASTNode } from '@marcbachmann/cel-js';
import { type CompiledCondition, ConditionError, compileConditionUncached } from './cel-env.js';
import type { Effect, PolicyConfig } from './schema.js';

/** The workflow a review goes to when its rule (or the policy default) names none. */
export const DEFAULT_WORKFLOW_NAME = 'default';

export interface PolicyIssue {
  /** The rule's name, or "default" for the policy's `default`. */
  rule: string;
  /** The field inside the rule: "when", "name", "workflow" or "default". */
  path: string;
  message: string;
  /** Position inside the `when` text, 1-based. */
  line?: number;
  column?: number;
}

/** The whole policy is refused; `issues` names every problem, not just the first. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(readonly issues: PolicyIssue[]) {
    super(
      `the policy was refused: ${issues
        .map((i) => `rule "${i.rule}" ${i.path}${i.line === undefined ? '' : ` (line ${i.line}, column ${i.column ?? 1})`}: ${i.message}`)
        .join('; ')}`,
    );
  }
}

export interface CompiledRule {
  /** Position in the policy; first match wins, so every scan keeps this order. */
  readonly index: number;
  readonly name: string;
  readonly effect: Effect;
  /** For review rules the workflow (named or "default"); null for allow and deny. */
  readonly workflow: string | null;
  readonly reason: string | null;
  readonly when: string;
  /** The only tools this rule can match (from a top-level `tool == "x"` / `tool in [...]` conjunct), or null for any tool. */
  readonly tools: readonly string[] | null;
  /** The whole condition is the tool test: reached through the index, it matches without running CEL. */
  readonly toolOnly: boolean;
  readonly condition: CompiledCondition;
}

export interface CompiledPolicy {
  readonly default: Effect;
  /** "default" when the policy default is review, else null. */
  readonly defaultWorkflow: string | null;
  /** Every rule in policy order (for replay and test tooling, and the unindexed reference scan). */
  readonly rules: readonly CompiledRule[];
  /** Per indexed tool, the rules indexed under it (policy order). A decision merges them with `generic`. */
  readonly byTool: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Rules that may match any tool (policy order): the whole candidate list for a tool not in `byTool`. */
  readonly generic: readonly CompiledRule[];
  /** Whether the operator vouches for this agent's annotations on a call to `resource` (`trust_annotations`). */
  trustsAnnotations(agent: string, resource: string | null): boolean;
}

/**
 * Compiles every rule once, or refuses the whole policy with one PolicyError listing every
 * problem: CEL syntax and type errors (with positions), duplicate or reserved names, workflows
 * on non-review rules, and reviews routed to a workflow that does not exist.
 */
export function compilePolicy(policy: PolicyConfig, opts: { workflows: ReadonlySet<string> }): CompiledPolicy {
  const issues: PolicyIssue[] = [];
  const seen = new Set<string>();
  const rules: CompiledRule[] = [];
  for (const [index, r] of policy.rules.entries()) {
    // "default" names the policy default in every decision; a rule of that name would make decisions ambiguous.
    if (r.name === DEFAULT_WORKFLOW_NAME) {
      issues.push({ rule: r.name, path: 'name', message: '"default" is reserved for the policy default' });
    } else if (seen.has(r.name)) {
      issues.push({ rule: r.name, path: 'name', message: `duplicate rule name (rule #${index + 1})` });
    }
    seen.add(r.name);
    if (r.workflow !== undefined && r.effect !== 'review') {
      issues.push({ rule: r.name, path: 'workflow', message: `a workflow only applies to review rules, this one is ${r.effect}` });
    }
    const workflow = r.effect === 'review' ? (r.workflow ?? DEFAULT_WORKFLOW_NAME) : null;
    if (workflow !== null && !opts.workflows.has(workflow)) {
      issues.push({ rule: r.name, path: 'workflow', message: unknownWorkflow(workflow, opts.workflows) });
    }
    let condition: CompiledCondition;
    try {
      condition = compileConditionUncached(r.when);
    } catch (e) {
      if (!(e instanceof ConditionError)) throw e;
      issues.push({ rule: r.name, path: 'when', message: e.summary, ...(e.line === undefined ? {} : { line: e.line, column: e.column }) });
      continue;
    }
    const { tools, toolOnly } = toolTest(condition.ast);
    const reason = r.reason ?? null;
    rules.push(Object.freeze({ index, name: r.name, effect: r.effect, workflow, reason, when: r.when, tools, toolOnly, condition }));
  }
  if (policy.default === 'review' && !opts.workflows.has(DEFAULT_WORKFLOW_NAME)) {
    issues.push({ rule: 'default', path: 'default', message: unknownWorkflow(DEFAULT_WORKFLOW_NAME, opts.workflows) });
  }
  if (issues.length > 0) throw new PolicyError(issues);

  const byTool = new Map<string, CompiledRule[]>();
  const generic: CompiledRule[] = [];
  for (const rule of rules) {
    if (rule.tools === null) generic.push(rule);
    for (const tool of rule.tools ?? []) {
      const list = byTool.get(tool);
      if (list === undefined) byTool.set(tool, [rule]);
      else list.push(rule);
    }
  }
  const trusted = trustTable(policy.trust_annotations);
  return Object.freeze({
    trustsAnnotations: (agent: string, resource: string | null) => {
      const t = trusted.get(agent);
      return t !== undefined && (t === 'any' || (resource !== null && t.has(resource)));
    },
    default: policy.default,
    defaultWorkflow: policy.default === 'review' ? DEFAULT_WORKFLOW_NAME : null,
    rules: Object.freeze(rules),
    byTool,
    generic: Object.freeze(generic),
  });
}

/** Agent name → every resource, or the listed ones (an agent listed twice gets the union). */
function trustTable(entries: PolicyConfig['trust_annotations']): Map<string, 'any' | Set<string>> {
  const out = new Map<string, 'any' | Set<string>>();
  for (const e of entries) {
    const agent = typeof e === 'string' ? e : e.agent;
    const resources = typeof e === 'string' ? undefined : e.resources;
    const had = out.get(agent);
    if (resources === undefined || had === 'any') out.set(agent, 'any');
    else out.set(agent, new Set([...(had ?? []), ...resources]));
  }
  return out;
}

function unknownWorkflow(name: string, known: ReadonlySet<string>): string {
  const list = [...known].sort().join(', ');
  return `workflow "${name}" is not defined (defined: ${list === '' ? 'none' : list})`;
}

/**
 * The tools a condition can match, read from its top-level `&&` chain. Sound because CEL's `&&`
 * is false whenever any conjunct is false, even if another conjunct errors: for any other tool the
 * rule evaluates to false, which is exactly what skipping it gives.
 */
export function toolTest(ast: ASTNode): { tools: string[] | null; toolOnly: boolean } {
  const conjuncts: ASTNode[] = [];
  const flatten = (n: ASTNode): void => {
    if (n.op === '&&') {
      flatten(n.args[0]);
      flatten(n.args[1]);
    } else conjuncts.push(n);
  };
  flatten(ast);
  let tools: Set<string> | null = null;
  let toolOnly = true;
  for (const c of conjuncts) {
    const set = toolLiterals(c);
    if (set === null) {
      toolOnly = false;
      continue;
    }
    tools = tools === null ? set : intersect(tools, set);
  }
  return tools === null ? { tools: null, toolOnly: false } : { tools: [...tools], toolOnly };
}

function intersect(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}

/** `tool == "x"`, `"x" == tool`, `tool in ["x", "y"]` → the literal names; anything else → null. */
function toolLiterals(n: ASTNode): Set<string> | null {
  if (n.op === '==') {
    const [l, r] = n.args;
    if (isTool(l) && r.op === 'value' && typeof r.args === 'string') return new Set([r.args]);
    if (isTool(r) && l.op === 'value' && typeof l.args === 'string') return new Set([l.args]);
    return null;
  }
  if (n.op === 'in') {
    const [l, r] = n.args;
    if (!isTool(l) || r.op !== 'list') return null;
    const out = new Set<string>();
    for (const e of r.args) {
      if (e.op !== 'value' || typeof e.args !== 'string') return null;
      out.add(e.args);
    }
    return out;
  }
  return null;
}

function isTool(n: ASTNode): boolean {
  return n.op === 'id' && n.args === 'tool';
}
