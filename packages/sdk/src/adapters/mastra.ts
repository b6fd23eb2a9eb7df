/**
 * Countersign for Mastra (`@mastra/core` 1.x): its tool-approval flow answered from Countersign decisions.
 *
 * Import from `@countersign/sdk/mastra`; `@mastra/core` is an optional peer dependency of the SDK (its current
 * line needs Node 22.13+; the SDK itself does not import it).
 *
 * Tools wrapped with {@link withApproval} / {@link withApprovals} require approval in Mastra, so each call
 * stops the agent (`finishReason: 'suspended'`); {@link answerToolApprovals} waits for each call's decision in
 * Countersign and approves or declines it in Mastra, the decline carrying who refused and why. The tool runs
 * only through `guard()`: with the approved (possibly edited) arguments, after redeeming the receipt, once.
 *
 * @example
 * import { Agent } from '@mastra/core/agent';
 * import { createClient } from '@countersign/sdk';
 * import { answerToolApprovals, withApprovals } from '@countersign/sdk/mastra';
 *
 * const cs = createClient({ url: process.env.COUNTERSIGN_URL!, apiKey: process.env.COUNTERSIGN_AGENT_KEY! });
 * const tools = withApprovals(cs, { deploy, dropTable });
 * const agent = new Agent({ id: 'ops', name: 'ops', instructions: 'You run deploys.', model, tools });
 * const { output } = await answerToolApprovals(agent, await agent.generate('Deploy api'), tools);
 */
import type { Client } from '../client.js';
import { type MastraApprovalOptions, type MastraToolLike, withApproval } from './mastra/approval-tool.js';

export { approvedAction } from './approved-action.js';
export {
  type AnsweredApproval,
  type AnswerToolApprovalsOptions,
  type ApprovingAgent,
  answerToolApprovals,
  type MastraOutput,
} from './mastra/answer-approvals.js';
export { type MastraApprovalOptions, type MastraToolLike, withApproval } from './mastra/approval-tool.js';

/** Options for {@link withApprovals}: shared by every wrapped tool. */
export interface MastraApprovalsOptions extends Omit<MastraApprovalOptions, 'tool'> {
  /** Only these tools (by their key in the record) are gated; default: every tool that has an `execute`. */
  only?: readonly string[];
  /** Tools (by key) that are never gated, e.g. read-only ones. */
  except?: readonly string[];
  /** The tool name policies see, from its key in the record (default: the key itself). */
  toolName?: (key: string) => string;
}

/**
 * Wraps a record of Mastra tools (as an `Agent`'s `tools`): every tool with an `execute` (or only those named in
 * `only`, minus `except`) is approved through Countersign; the others are passed through untouched. The tool
 * name policies see is the record key (or `toolName(key)`), which is also the name Mastra's approval stops carry.
 *
 * @example
 * const tools = withApprovals(cs, { deploy, readLogs }, { except: ['readLogs'], session_id: runId });
 */
export function withApprovals<T extends Record<string, MastraToolLike>>(client: Client, tools: T, options: MastraApprovalsOptions = {}): T {
  const { only, except, toolName = (k: string) => k, ...shared } = options;
  for (const name of only ?? []) {
    if (!(name in tools)) throw new TypeError(`withApprovals: "${name}" in \`only\` is not one of the tools`);
  }
  const out: Record<string, MastraToolLike> = {};
  for (const [key, t] of Object.entries(tools)) {
    const gated = (only ? only.includes(key) : typeof t.execute === 'function') && !except?.includes(key);
    out[key] = gated ? withApproval(client, t, { ...shared, tool: toolName(key) }) : t;
  }
  return out as T;
}
