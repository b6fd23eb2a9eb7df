import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};
const tc = (...calls) => ({
  content: calls.map((c) => ({ type: 'tool-call', toolCallId: c.id, toolName: c.name, input: JSON.stringify(c.input) })),
  finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
  usage,
  warnings: [],
});
const txt = (t) => ({ content: [{ type: 'text', text: t }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] });
const runs = [];
const deploy = createTool({
  id: 'deploy',
  description: 'Deploy',
  inputSchema: z.object({ service: z.string() }),
  requireApproval: true,
  execute: async (input, ctx) => {
    console.log('execute', JSON.stringify(input), ctx?.agent?.toolCallId);
    runs.push(input);
    return `deployed ${input.service}`;
  },
});
const responses = [
  tc({ id: 'c1', name: 'deploy', input: { service: 'api' } }, { id: 'c2', name: 'deploy', input: { service: 'web' } }),
  txt('done'),
  txt('done2'),
  txt('done3'),
];
const model = new MockLanguageModelV3({ doStream: undefined, doGenerate: async () => responses.shift() });
// mock doStream from doGenerate
model.doStream = async (opts) => {
  const r = responses.shift();
  const parts = [{ type: 'stream-start', warnings: [] }];
  for (const c of r.content) {
    if (c.type === 'text')
      parts.push({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: c.text }, { type: 'text-end', id: 't' });
    else parts.push(c);
  }
  parts.push({ type: 'finish', finishReason: r.finishReason, usage: r.usage });
  model.prompts = [...(model.prompts ?? []), opts.prompt];
  return {
    stream: new ReadableStream({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    }),
  };
};
const agent = new Agent({ id: 'ops', name: 'ops', instructions: 'x', model, tools: { deploy } });
const mastra = new Mastra({ agents: { agent } });
const a = mastra.getAgent('agent');
const out = await a.generate('Deploy api and web');
console.log('finish', out.finishReason, 'runId', out.runId, 'suspendPayload', JSON.stringify(out.suspendPayload));
const r2 = await a.approveToolCallGenerate({ runId: out.runId, toolCallId: 'c1' });
console.log('finish2', r2.finishReason, JSON.stringify(r2.suspendPayload), r2.text, JSON.stringify(runs));
if (r2.finishReason === 'suspended') {
  const r3 = await a.declineToolCallGenerate({ runId: r2.runId, toolCallId: 'c2', reason: 'Denied by alice: frozen' });
  console.log('finish3', r3.finishReason, r3.text, JSON.stringify(runs));
}
console.log(JSON.stringify(model.prompts?.at(-1)?.slice(-2)));
