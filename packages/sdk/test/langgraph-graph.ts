/** A LangGraph user's own graph around approvalNode, and what the langgraph tests read of its runs. */
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { type FakeBuiltModel, fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { type Command, END, type Interrupt, MemorySaver, MessagesAnnotation, Send, START, StateGraph } from '@langchain/langgraph';
import { z } from 'zod';
import {
  type ApprovalInterrupt,
  type approvalNode,
  isApprovalInterrupt,
  type ResumeCommand,
  resumeFromCountersign,
} from '../src/adapters/langgraph.js';
import type { Client } from '../src/index.js';

/** A deploy tool that records the arguments it actually ran with. */
export function deployTool(name: string, ran: unknown[]) {
  return tool(
    async (args) => {
      ran.push(args);
      return `deployed ${args.service} x${args.replicas}`;
    },
    { name, description: 'Deploy a service', schema: z.object({ service: z.string(), replicas: z.number() }) },
  );
}

export type Call = { id: string; name: string; args: Record<string, unknown> };

/** A scripted model: one turn of tool calls, then a final answer. */
export const scriptedModel = (calls: Call[], answer = 'Done.'): FakeBuiltModel =>
  fakeModel().respondWithTools(calls).respond(new AIMessage(answer));

/**
 * The graph a LangGraph user writes: a model node, and the tools behind approvalNode. With `fanOut`, each tool
 * call of a message is its own task (`Send`), so parallel calls pause as separate interrupts.
 */
export function graphOf(
  model: FakeBuiltModel,
  node: ReturnType<typeof approvalNode>,
  checkpointer: MemorySaver | undefined, // none: a subgraph, checkpointed by its parent
  fanOut = false,
) {
  return new StateGraph(MessagesAnnotation)
    .addNode('agent', async (s) => ({ messages: [await model.invoke(s.messages)] }))
    .addNode('tools', node)
    .addEdge(START, 'agent')
    .addConditionalEdges(
      'agent',
      (s) => {
        const last = s.messages.at(-1);
        const calls = last && AIMessage.isInstance(last) ? (last.tool_calls ?? []) : [];
        if (calls.length === 0) return END;
        return fanOut ? calls.map((c) => new Send('tools', { ...s, lg_tool_call: c })) : 'tools';
      },
      ['tools', END],
    )
    .addEdge('tools', 'agent')
    .compile({ checkpointer });
}

export type Paused = { messages: BaseMessage[]; __interrupt__?: Interrupt[] };

/** A graph on its own thread, started and resumed the way its user would. */
export function run(model: FakeBuiltModel, node: ReturnType<typeof approvalNode>, opts: { fanOut?: boolean; thread: string }) {
  const checkpointer = new MemorySaver();
  const graph = graphOf(model, node, checkpointer, opts.fanOut);
  const config = { configurable: { thread_id: opts.thread } };
  return {
    checkpointer,
    config,
    graph,
    start: (content: string) => graph.invoke({ messages: [new HumanMessage(content)] }, config) as Promise<Paused>,
    resume: (command: ResumeCommand | Command<unknown, Record<string, never>, never>) => graph.invoke(command, config) as Promise<Paused>,
  };
}

/** The Countersign interrupts a paused run returned. */
export function approvalInterrupts(state: Paused): (Interrupt<ApprovalInterrupt> & { value: ApprovalInterrupt })[] {
  return (state.__interrupt__ ?? []).filter((i): i is Interrupt<ApprovalInterrupt> & { value: ApprovalInterrupt } =>
    isApprovalInterrupt(i.value),
  );
}

/** The tool results the model was shown on its `turn`-th call (0-based), as [tool_call_id, content, status]. */
export function toolResultsSeen(model: FakeBuiltModel, turn: number) {
  const messages: BaseMessage[] = model.calls[turn]?.messages ?? [];
  return messages.filter((m) => ToolMessage.isInstance(m)).map((m) => [m.tool_call_id, m.content, m.status]);
}

/** Resumes from Countersign's decisions until the graph no longer waits on one. */
export async function resumeUntilDone(cs: Client, r: ReturnType<typeof run>, state: Paused): Promise<Paused> {
  for (let next = await resumeFromCountersign(cs, state); next?.command; next = await resumeFromCountersign(cs, state)) {
    state = await r.resume(next.command);
  }
  return state;
}
