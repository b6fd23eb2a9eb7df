/**
 * Countersign for the OpenAI Agents SDK (`@openai/agents` ≥ 0.20): tool approvals decided in Countersign.
 *
 * Import from `@countersign/sdk/openai-agents`; `@openai/agents` is an optional peer dependency of the SDK.
 *
 * A tool made with {@link approvalTool} proposes each call to Countersign from `needsApproval`. A call the
 * policy approves at once runs straight away; a call held for review ends the run with an interruption, as
 * any `needsApproval` tool does. {@link resolveInterruptions} then waits for (or reads) Countersign's
 * decisions and approves or rejects each interruption in the run state, a rejection carrying who refused it
 * and why, so the model reads the reason. Resuming the run executes the approved calls with the
 * **approved** arguments (a reviewer's edits included), after redeeming the receipt, at most once.
 *
 * @example
 * import { Agent, run } from '@openai/agents';
 * import { z } from 'zod';
 * import { createClient } from '@countersign/sdk';
 * import { approvalTool, resolveInterruptions } from '@countersign/sdk/openai-agents';
 *
 * const cs = createClient({ url: process.env.COUNTERSIGN_URL!, apiKey: process.env.COUNTERSIGN_KEY! });
 * const deploy = approvalTool(cs, {
 *   name: 'deploy',
 *   description: 'Deploy a service',
 *   parameters: z.object({ service: z.string(), replicas: z.number() }),
 *   execute: async ({ service, replicas }) => runDeploy(service, replicas),
 * });
 * const agent = new Agent({ name: 'ops', tools: [deploy] });
 *
 * let result = await run(agent, 'Deploy api with 10 replicas');
 * while (result.interruptions.length > 0) {
 *   await resolveInterruptions(result); // waits for the reviewers' decisions
 *   result = await run(agent, result.state);
 * }
 */
export {
  type ApprovalTool,
  type ApprovalToolArgs,
  type ApprovalToolMode,
  type ApprovalToolOptions,
  approvalTool,
} from './openai-agents/approval-tool.js';
export {
  type ApprovableRun,
  type ApprovableRunState,
  type InterruptionResolution,
  type ResolveInterruptionsOptions,
  resolveInterruptions,
} from './openai-agents/interruptions.js';
