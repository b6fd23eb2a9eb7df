/**
 * Countersign for LangGraph JS graphs you write yourself: tool calls pause the graph with `interrupt()` while a
 * person reviews them, and `Command({ resume })` continues it once Countersign has decided.
 *
 * Import from `@countersign/sdk/langgraph`; `@langchain/langgraph` and `@langchain/core` are optional peer
 * dependencies of the SDK, loaded only by this subpath. Pick one per graph:
 * - {@link approvalNode}: a drop-in for `ToolNode` (the last AI message's calls, or one call sent with `Send`);
 * - {@link interruptForApproval}: the same gate inside a node of your own, around your own execution.
 * Then {@link resumeFromCountersign} turns the decisions into the `Command` that resumes the graph.
 *
 * The agent's side never decides: a resume value (from this SDK, a UI, anyone) only makes the node read
 * the decision at the gateway again. An approved call runs once with the approved arguments, after its
 * receipt is redeemed; a replayed node returns the recorded result instead of running the tool again.
 *
 * @example
 * import { approvalNode, resumeFromCountersign } from '@countersign/sdk/langgraph';
 *
 * const graph = new StateGraph(MessagesAnnotation)
 *   .addNode('agent', callModel)
 *   .addNode('tools', approvalNode(cs, [deploy])) // was: new ToolNode([deploy])
 *   .addEdge(START, 'agent')
 *   .addConditionalEdges('agent', toolsCondition, ['tools', END])
 *   .addEdge('tools', 'agent')
 *   .compile({ checkpointer });
 * let state = await graph.invoke({ messages: [new HumanMessage('Ship api')] }, config);
 * for (let r = await resumeFromCountersign(cs, state); r?.command; r = await resumeFromCountersign(cs, state)) {
 *   state = await graph.invoke(r.command, config);
 * }
 */
export { type ApprovalNode, type ApprovalNodeInput, type ApprovalNodeOptions, approvalNode } from './langgraph/approval-node.js';
export { type ExecuteCall, type InterruptForApprovalOptions, interruptForApproval } from './langgraph/interrupt-for-approval.js';
export { type ApprovalInterrupt, type ApprovalResume, isApprovalInterrupt, type PendingApproval } from './langgraph/payload.js';
export {
  type Interrupted,
  type ResumeCommand,
  type ResumeFromCountersignOptions,
  type Resumption,
  resumeFromCountersign,
} from './langgraph/resume.js';
