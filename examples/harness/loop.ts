/**
 * A minimal turn-based agent harness (no framework) showing the harness flow with Countersign:
 *
 * - a turn ends on `tool.approval_required` instead of holding the run open while a person decides;
 * - the next turn takes `tool.approval` inputs and resumes exactly where it paused;
 * - a subagent's approvals surface to the top-level run (its calls carry `parent_id` = the delegation,
 *   so they share its `root_id`), and the input resumes that subagent, not a fresh one.
 *
 * Models are scripted (no API keys). Everything that matters is in `callTool`: one `guard()` per tool call
 * with `onPending: 'pause'`, keyed by the tool-call id, so re-running a paused call next turn runs it once
 * with the approved (possibly edited) arguments, or hands the model the refusal.
 */
import {
  type Action,
  ApprovalPending,
  applyToolApproval,
  type Client,
  isApprovalPending,
  isRefusal,
  type ToolApproval,
  type ToolApprovalRequired,
} from '@countersign/sdk';

export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}
export type Message =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };
/** A model: reads the transcript, answers with text or tool calls. */
export type Model = (messages: readonly Message[]) => { text: string } | { toolCalls: ToolCall[] };

export interface ToolDef {
  run(args: Record<string, unknown>, ctx: { action: Action; path: string[] }): Promise<string>;
  /** Read-only tools are proposed as such; the policy may let them through without review. */
  readOnly?: boolean;
}

export interface AgentSpec {
  name: string;
  model: Model;
  tools: Record<string, ToolDef>;
  /** Subagents this agent can hand a task to with the `delegate` tool ({ agent, task }). */
  subagents?: Record<string, AgentSpec>;
}

/** One agent's progress: its transcript, and the tool calls of its last model turn still without results. */
interface AgentState {
  messages: Message[];
  waiting: ToolCall[];
  /** Subagents' states by the delegating tool-call id, so a resumed delegation continues the same subagent. */
  children: Record<string, AgentState>;
}

export type TurnResult = { type: 'turn.completed'; output: string } | { type: 'turn.paused'; approvals: ToolApprovalRequired[] };

export class Run {
  private readonly state: AgentState = { messages: [], waiting: [], children: {} };

  constructor(
    private readonly client: Client,
    private readonly agent: AgentSpec,
    readonly sessionId: string,
  ) {}

  /** A turn: a user message starts work; `tool.approval` inputs resume a paused run. */
  async turn(input: string | ToolApproval[], opts: { reviewer?: Client } = {}): Promise<TurnResult> {
    if (typeof input === 'string') this.state.messages.push({ role: 'user', content: input });
    else for (const approval of input) await applyToolApproval(this.client, approval, opts);
    return this.step(this.agent, this.state, [this.agent.name], undefined);
  }

  private async step(agent: AgentSpec, st: AgentState, path: string[], parentId: string | undefined): Promise<TurnResult> {
    for (;;) {
      if (st.waiting.length === 0) {
        const out = agent.model(st.messages);
        if ('text' in out) {
          st.messages.push({ role: 'assistant', content: out.text });
          return { type: 'turn.completed', output: out.text };
        }
        st.messages.push({ role: 'assistant', content: '', toolCalls: out.toolCalls });
        st.waiting = [...out.toolCalls];
      }
      // Every waiting call runs (or pauses) now, so one turn surfaces all the approvals it needs at once.
      const settled = await Promise.allSettled(st.waiting.map((c) => this.callTool(agent, st, c, path, parentId)));
      const approvals: ToolApprovalRequired[] = [];
      const still: ToolCall[] = [];
      settled.forEach((r, i) => {
        const c = st.waiting[i] as ToolCall;
        if (r.status === 'fulfilled') st.messages.push({ role: 'tool', toolCallId: c.id, content: r.value });
        else if (isApprovalPending(r.reason)) {
          approvals.push(...r.reason.requests);
          still.push(c);
        } else throw r.reason;
      });
      st.waiting = still;
      if (approvals.length > 0) return { type: 'turn.paused', approvals };
    }
  }

  private async callTool(agent: AgentSpec, st: AgentState, call: ToolCall, path: string[], parentId: string | undefined): Promise<string> {
    const sub = call.name === 'delegate' ? agent.subagents?.[String(call.args.agent)] : undefined;
    const def = sub ? undefined : agent.tools[call.name];
    if (!sub && !def) return `unknown tool ${call.name}`;
    const guarded = this.client.guard<Record<string, unknown>, string>(
      async (args, ctx) => {
        const action = ctx.action as Action;
        if (def) return def.run(args, { action, path });
        // A delegation runs the subagent under this action: its calls chain to it through parent_id.
        const child = st.children[call.id] ?? { messages: [{ role: 'user', content: String(args.task) }], waiting: [], children: {} };
        st.children[call.id] = child;
        const r = await this.step(sub as AgentSpec, child, [...path, (sub as AgentSpec).name], action.id);
        if (r.type === 'turn.paused') throw new ApprovalPending(r.approvals);
        return r.output;
      },
      {
        tool: call.name,
        onPending: 'pause',
        resumable: sub !== undefined,
        session_id: this.sessionId,
        ...(parentId ? { parent_id: parentId } : {}),
        ...(def?.readOnly || sub ? { annotations: { readOnlyHint: true } } : {}),
        metadata: { tool_call_id: call.id, agent_path: path },
      },
    );
    const out = await guarded(call.args, { toolCallId: `${this.sessionId}:${call.id}` });
    return isRefusal(out) ? out.message : out;
  }
}
