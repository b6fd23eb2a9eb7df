/**
 * A scripted model for the examples, so they run without an API key: each call answers the next turn, as a
 * provider would (generate or stream: Mastra streams, generateText generates).
 */
import { MockLanguageModelV3 } from 'ai/test';

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};

export type Turn = ReturnType<typeof callTools> | ReturnType<typeof say>;

/** A turn that calls tools. */
export const callTools = (...calls: { id: string; name: string; input: unknown }[]) => ({
  content: calls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: c.name, input: JSON.stringify(c.input) })),
  finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
  usage,
  warnings: [],
});

/** A turn that answers in text. */
export const say = (text: string) => ({
  content: [{ type: 'text' as const, text }],
  finishReason: { unified: 'stop' as const, raw: 'stop' },
  usage,
  warnings: [],
});

export function scriptedModel(turns: Turn[]): MockLanguageModelV3 {
  const next = () => {
    const turn = turns.shift();
    if (!turn) throw new Error('the scripted model has no turn left');
    return turn;
  };
  return new MockLanguageModelV3({
    doGenerate: async () => next(),
    doStream: async () => streamOf(next()),
  });
}

/** A turn as the stream a provider sends for it (Mastra streams): text as start/delta/end, tool calls as they are. */
export function streamOf(turn: {
  content: readonly ({ type: 'text'; text: string } | { type: string })[];
  finishReason: unknown;
  usage: unknown;
}) {
  const parts: unknown[] = [{ type: 'stream-start', warnings: [] }];
  for (const c of turn.content) {
    if (c.type === 'text' && 'text' in c)
      parts.push({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: c.text }, { type: 'text-end', id: 't' });
    else parts.push(c);
  }
  parts.push({ type: 'finish', finishReason: turn.finishReason, usage: turn.usage });
  return {
    stream: new ReadableStream({
      start(controller) {
        for (const p of parts) controller.enqueue(p);
        controller.close();
      },
    }),
  } as never;
}
