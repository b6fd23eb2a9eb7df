/** The scripted model the Mastra tests share: Mastra streams, so it answers doStream as well as doGenerate. */
import { MockLanguageModelV3 } from 'ai/test';
import { streamOf } from '../examples/scripted-model.ts';
import type { text, toolCalls } from './support.ts';

export type Turn = ReturnType<typeof toolCalls> | ReturnType<typeof text>;

/**
 * A scripted model for Mastra: each call (generate or stream; Mastra streams) answers the next turn, and the
 * prompts it was sent are kept, so a test can read what the model was shown.
 */
export function scriptedModel(turns: Turn[]) {
  const prompts: unknown[][] = [];
  const next = (prompt: unknown[]) => {
    prompts.push(prompt);
    const turn = turns.shift();
    if (!turn) throw new Error('the scripted model has no turn left');
    return turn;
  };
  const model = new MockLanguageModelV3({
    doGenerate: async (options) => next(options.prompt),
    doStream: async (options) => streamOf(next(options.prompt)),
  });
  return { model, prompts };
}

/** The tool results (and their outputs) in one prompt the model was sent. */
export function toolResultsIn(prompt: unknown[] | undefined): { toolCallId: string; output: unknown }[] {
  return (prompt ?? []).flatMap((m) => {
    const message = m as { role: string; content: { type: string; toolCallId: string; output: unknown }[] };
    return message.role === 'tool' ? message.content.filter((p) => p.type === 'tool-result') : [];
  });
}
