import { type ASTNode, Environment } from '@marcbachmann/cel-js';
import { shellCommands } from './shell.js';

/** What a policy or stage condition sees of an action. Plain JSON-ish values; JSON numbers stay doubles, as in CEL's JSON mapping. */
export interface PolicyInput {
  tool: string;
  arguments: Record<string, unknown>;
  resource: string | null;
  annotations: Record<string, unknown>;
  /** The operator vouches for this agent's annotations (policy `trust_annotations`); never the agent's own say. */
  annotations_trusted: boolean;
  agent: { name: string; owner: string; labels: Record<string, string> };
  on_behalf_of: string | null;
  session_id: string | null;
  purpose: string | null;
  metadata: Record<string, unknown>;
  now: Date;
}

export interface CompiledCondition {
  readonly source: string;
  /** The checked CEL tree; compile-policy reads it to index rules by tool. */
  readonly ast: ASTNode;
  /** True or false, or throws a ConditionError (missing key, bad overload, unparseable shell, non-bool result). */
  evaluate(input: PolicyInput): boolean;
}

/** A condition that does not compile, or did not evaluate. `summary` has no position; `message` does when one is known. */
export class ConditionError extends Error {
  override readonly name = 'ConditionError';
  constructor(
    readonly summary: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(line === undefined ? summary : `${summary} (line ${line}, column ${column ?? 1})`);
  }
}

/**
 * The MCP ToolAnnotations defaults. Conditions such as `annotations.readOnlyHint == true` are
 * written as if every hint had a value; without these, an action that sends no hints would make
 * that rule an evaluation error, and every such action would go to review for the wrong reason.
 */
const ANNOTATION_DEFAULTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } as const;

export function withAnnotationDefaults(annotations: Record<string, unknown>): Record<string, unknown> {
  return { ...ANNOTATION_DEFAULTS, ...annotations };
}

// The one environment for every policy rule and workflow-stage condition, so both accept the same language.
const env = new Environment({ unlistedVariablesAreDyn: false })
  .registerVariable('tool', 'string')
  .registerVariable('arguments', 'map')
  .registerVariable('resource', 'dyn')
  .registerVariable('annotations', 'map')
  .registerVariable('annotations_trusted', 'bool')
  .registerVariable('agent', 'map')
  .registerVariable('on_behalf_of', 'dyn')
  .registerVariable('session_id', 'dyn')
  .registerVariable('purpose', 'dyn')
  .registerVariable('metadata', 'map')
  // cel-js spells the CEL timestamp type by its protobuf name; values are JS Dates.
  .registerVariable('now', 'google.protobuf.Timestamp')
  // A ShellParseError propagates out of the evaluation: the condition errors, and the caller reviews.
  .registerFunction('shell_commands(string): list<map>', (source: string) => shellCommands(source));

interface CelErrorLike {
  summary?: unknown;
  range?: { start: number } | undefined;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** cel-js messages carry a multi-line source excerpt; people and the audit log get one line plus a position. */
function toConditionError(e: unknown, source: string): ConditionError {
  if (e instanceof ConditionError) return e;
  const err = e as CelErrorLike & { message?: unknown };
  const summary = typeof err?.summary === 'string' ? err.summary : e instanceof Error ? e.message : String(e);
  const start = err?.range?.start;
  if (typeof start !== 'number') return new ConditionError(summary);
  const { line, column } = lineColumn(source, start);
  return new ConditionError(summary, line, column);
}

/** Parses and type-checks once; unknown variables, syntax and type errors all surface here, at load time. */
export function compileConditionUncached(expression: string): CompiledCondition {
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(expression);
  } catch (e) {
    throw toConditionError(e, expression);
  }
  const checked = parsed.check();
  if (!checked.valid) throw toConditionError(checked.error, expression);
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new ConditionError(`a condition must be a bool, this one is a ${checked.type}`);
  }
  return {
    source: expression,
    ast: parsed.ast,
    evaluate(input: PolicyInput): boolean {
      let result: unknown;
      try {
        result = parsed(input as unknown as Record<string, unknown>);
      } catch (e) {
        throw toConditionError(e, expression);
      }
      if (typeof result !== 'boolean') {
        throw new ConditionError(`the condition gave a ${result === null ? 'null' : typeof result}, not a bool`);
      }
      return result;
    },
  };
}

// Workflow-stage conditions are compiled again from frozen text each time a stage is reached.
const CACHE_MAX = 512;
const cache = new Map<string, CompiledCondition>();

/** Compiles a condition (cached by its text) or throws a ConditionError with the position of the problem. */
export function compileCondition(expression: string): CompiledCondition {
  const hit = cache.get(expression);
  if (hit !== undefined) return hit;
  const compiled = compileConditionUncached(expression);
  if (cache.size >= CACHE_MAX) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(expression, compiled);
  return compiled;
}
