/**
 * Stands in for the person who decides, so the examples run unattended: it watches the review queue with
 * COUNTERSIGN_REVIEWER_KEY (a human reviewer's key) and answers each expected tool once it shows up.
 * In real use this is the web inbox, Slack, email or `countersign approve|deny`, never the agent.
 */
import { type Action, createClient, type ReviewInput } from '@countersign/sdk';

export interface ScriptedDecision {
  tool: string;
  decision: ReviewInput;
}

export async function playReviewer(script: readonly ScriptedDecision[]): Promise<Action[]> {
  const key = process.env.COUNTERSIGN_REVIEWER_KEY;
  if (!key) {
    console.log('COUNTERSIGN_REVIEWER_KEY is not set: decide in the inbox or with `countersign approve|deny ID`.');
    return [];
  }
  const reviewer = createClient({ url: process.env.COUNTERSIGN_URL as string, apiKey: key });
  const decided: Action[] = [];
  for (const step of script) {
    for (;;) {
      const { items } = await reviewer.request<{ items: Action[] }>(
        'GET',
        `/v1/actions?status=pending&tool=${encodeURIComponent(step.tool)}`,
      );
      const pending = items[0];
      if (pending) {
        console.log(
          `[reviewer] ${step.decision.decision} ${pending.tool} ${JSON.stringify(pending.arguments)}${step.decision.reason ? `: ${step.decision.reason}` : ''}`,
        );
        decided.push(await reviewer.review(pending.id, step.decision));
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return decided;
}
