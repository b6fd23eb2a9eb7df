import type { Action } from '../types.js';

/**
 * Where an adapter puts the approved action on the execution context it hands a tool's own `execute`. A symbol,
 * so it never collides with a framework's fields and survives `{ ...context }` copies.
 */
const APPROVED_ACTION: unique symbol = Symbol.for('@countersign/sdk/approved-action');

/**
 * The framework's execution context for a tool that runs under an approved action: a copy with the action added
 * (the framework's object itself is left as it was; other tools may share it).
 */
export function withApprovedAction<C>(context: C, action: Action): C {
  const base = (typeof context === 'object' && context !== null ? context : {}) as object;
  // The copy keeps the context's prototype, so a class instance's methods and getters still answer.
  return Object.assign(Object.create(Object.getPrototypeOf(base)) as object, base, { [APPROVED_ACTION]: action }) as C;
}

/**
 * The Countersign action a gated tool is running under, read from the execution context its `execute` received
 * (the AI SDK's `ToolExecutionOptions`, Mastra's tool context); undefined outside a gated tool. A tool that runs
 * a subagent passes its id as the subagent's `parent_id`, so the subagent's calls are proposed under the
 * delegation and `GET /v1/actions?root_id=` lists them with it.
 *
 * @example
 * execute: async ({ topic }, options) => {
 *   const subTools = withApprovals(cs, { search }, { parent_id: approvedAction(options)?.id });
 *   return (await generateText({ model, tools: subTools, prompt: topic })).text;
 * }
 */
export function approvedAction(context: unknown): Action | undefined {
  return typeof context === 'object' && context !== null ? (context as { [APPROVED_ACTION]?: Action })[APPROVED_ACTION] : undefined;
}
