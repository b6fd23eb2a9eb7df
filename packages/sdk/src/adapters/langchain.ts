/**
 * Countersign for LangChain.js: put human approval in front of a LangChain agent's tool calls.
 *
 * Import from `@countersign/sdk/langchain`; `@langchain/core` is an optional peer dependency of the SDK, and
 * the middleware and the human-in-the-loop helper are typed against `langchain` 1.x (types only: nothing
 * from `langchain` is loaded at run time). Three ways in, pick one per tool:
 * - {@link withApproval} / {@link withApprovals}: wrap the tools themselves (works wherever the tools run);
 * - {@link countersignMiddleware}: one line in `createAgent({ middleware: [...] })`;
 * - {@link answerHitlInterrupt}: answer the built-in `humanInTheLoopMiddleware`'s interrupts from Countersign.
 *
 * @example
 * import { createAgent } from 'langchain';
 * import { createClient } from '@countersign/sdk';
 * import { countersignMiddleware } from '@countersign/sdk/langchain';
 *
 * const cs = createClient({ url: process.env.COUNTERSIGN_URL!, apiKey: process.env.COUNTERSIGN_KEY! });
 * const agent = createAgent({ model, tools: [deploy, readLogs], middleware: [countersignMiddleware(cs, { tools: [deploy] })] });
 * await agent.invoke({ messages: [{ role: 'user', content: 'Ship it' }] }); // deploy waits for a person
 */
export {
  answerHitlInterrupt,
  type HitlAnswer,
  type HitlAnswerOptions,
  type InterruptedState,
} from './langchain/hitl.js';
export { type ApprovalMiddleware, type ApprovalMiddlewareOptions, countersignMiddleware, type ToolRef } from './langchain/middleware.js';
export type { CallProposalOptions, PerCall, ToolArgs } from './langchain/shared.js';
export {
  type ApprovalTool,
  type LangChainToolArgs,
  type ToolApprovalOptions,
  type ToolsApprovalOptions,
  withApproval,
  withApprovals,
} from './langchain/tool.js';
