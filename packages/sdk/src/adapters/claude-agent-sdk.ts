/**
 * Countersign for the Claude Agent SDK (`@anthropic-ai/claude-agent-sdk`): tool calls decided in Countersign.
 *
 * Import from `@countersign/sdk/claude-agent-sdk`; `@anthropic-ai/claude-agent-sdk` is an optional peer
 * dependency of the SDK.
 *
 * The SDK runs tools itself once a permission callback or a PreToolUse hook says "allow". So each call is
 * proposed (the tool-use id is the idempotency key: a restarted agent re-attaches), waited for, and, when
 * approved, its receipt is redeemed before the answer goes back: the approved input (a reviewer's edits
 * included) runs at most once. A refusal reaches the model as the deny message: who refused and why.
 *
 * @example
 * import { query } from '@anthropic-ai/claude-agent-sdk';
 * import { createClient } from '@countersign/sdk';
 * import { claudeApprovals } from '@countersign/sdk/claude-agent-sdk';
 *
 * const cs = createClient({ url: process.env.COUNTERSIGN_URL!, apiKey: process.env.COUNTERSIGN_AGENT_KEY! });
 * const approvals = claudeApprovals(cs, { tools: (name) => name !== 'Read' });
 * for await (const message of query({ prompt: 'Deploy api', options: { canUseTool: approvals.canUseTool, hooks: approvals.hooks() } })) {
 *   console.log(message);
 * }
 */
export { type Arguments, toolUseKey } from './claude-agent-sdk/decide.js';
export {
  type ClaudeApprovalOptions,
  type ClaudeApprovals,
  type ClaudeHooks,
  claudeApprovals,
  countersignCanUseTool,
  countersignPreToolUse,
} from './claude-agent-sdk/permissions.js';
