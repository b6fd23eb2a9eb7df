/**
 * What every test here shares: the gateway the runner started (scripts/test-node22-adapters.sh runs these
 * tests through examples/with-gateway.ts, which passes its URL and keys in the environment), a reviewer who
 * decides, and the scripted model turns both frameworks accept.
 */
import { type Action, createClient, type ReviewInput } from '@countersign/sdk';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests with scripts/test-node22-adapters.sh`);
  return value;
}

/** The agent's client (demo-agent: every call it proposes is held for review unless a test's rule says otherwise). */
export const agent = () => createClient({ url: env('COUNTERSIGN_URL'), apiKey: env('COUNTERSIGN_AGENT_KEY') });

/** The reviewer's client (alice), playing the person who decides in the inbox. */
export const reviewer = () => createClient({ url: env('COUNTERSIGN_URL'), apiKey: env('COUNTERSIGN_REVIEWER_KEY') });

/** A name no other test uses, so the gateway every file shares never mixes two tests' actions. */
let seq = 0;
export const unique = (base: string) => `${base}-${process.pid}-${++seq}`;

/** Every action proposed for `tool`, newest first. */
export async function actionsFor(tool: string): Promise<Action[]> {
  const { items } = await reviewer().request<{ items: Action[] }>('GET', `/v1/actions?tool=${encodeURIComponent(tool)}`);
  return items;
}

/** Decides the pending action for `tool` whose arguments match `which`, once it shows up, as a reviewer would. */
export async function decideWhenPending(
  tool: string,
  decision: ReviewInput,
  which: (args: Record<string, unknown>) => boolean = () => true,
): Promise<Action> {
  const cs = reviewer();
  for (;;) {
    const { items } = await cs.request<{ items: Action[] }>('GET', `/v1/actions?status=pending&tool=${encodeURIComponent(tool)}`);
    const pending = items.find((a) => which(a.arguments));
    if (pending) return cs.review(pending.id, decision);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};

/** One model turn that calls tools (the provider spec's generate result). */
export const toolCalls = (...calls: { id: string; name: string; input: unknown }[]) => ({
  content: calls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: c.name, input: JSON.stringify(c.input) })),
  finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
  usage,
  warnings: [],
});

/** One model turn that answers in text. */
export const text = (value: string) => ({
  content: [{ type: 'text' as const, text: value }],
  finishReason: { unified: 'stop' as const, raw: 'stop' },
  usage,
  warnings: [],
});
