import { FLAG_TEXT, flaggedPaths } from '@countersign/sdk/reveal';
import type { ActionView } from '../../domain/actions/schemas.js';
import { safeText } from './safe-text.js';

/** What a notification says about an action, every agent-written string already revealed and cut (not yet escaped). */
export interface SafeSummary {
  actionId: string;
  tool: string;
  /** One line per top-level argument: `name: value` (JSON for non-strings). */
  arguments: string[];
  /** Arguments left out past the line limit. */
  moreArguments: number;
  purpose: string | null;
  agent: string;
  onBehalfOf: string | null;
  status: string;
  deadline: string | null;
  /** "stage 1 of 2 (review): 0 of 1 approvals", or null without a workflow. */
  progress: string | null;
  /** For a decided action: "approved by alice@example.com", with the reason. */
  outcome: string | null;
  /**
   * What the console would flag, one line per place (`arguments.url: words mixing alphabets (look-alike
   * letters)`): hidden characters are shown as markers in the text, but a look-alike letter cannot be, so a
   * message says it in words. At most MAX_FLAGGED lines.
   */
  flagged: string[];
  consoleUrl: string;
}

const MAX_ARGS = 12;
const MAX_VALUE = 300;
const MAX_LINE = 200;

export function summarize(view: ActionView, consoleUrl: string): SafeSummary {
  const entries = Object.entries(view.arguments);
  const args = entries.slice(0, MAX_ARGS).map(([k, v]) => {
    const value = typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null');
    return `${safeText(k, 60)}: ${safeText(value, MAX_VALUE)}`;
  });
  const wf = view.workflow;
  const progress = wf
    ? `stage ${wf.stage.index + 1} of ${wf.stage.of} (${safeText(wf.stage.name, 80)}): ${wf.stage.approvals.length} of ${wf.stage.quorum} approvals`
    : null;
  const decided = view.status !== 'pending' && view.decided_by !== null;
  const by = view.decided_by?.label ?? view.decided_by?.type ?? 'the system';
  const reason = view.reason ? ` (${safeText(view.reason, MAX_LINE)})` : '';
  return {
    actionId: view.id,
    tool: safeText(view.tool, MAX_LINE),
    arguments: args,
    moreArguments: Math.max(0, entries.length - MAX_ARGS),
    purpose: view.purpose === null ? null : safeText(view.purpose, 500),
    agent: safeText(view.agent.name, MAX_LINE),
    onBehalfOf: view.on_behalf_of === null ? null : safeText(view.on_behalf_of, MAX_LINE),
    status: view.status,
    deadline: view.expires_at,
    progress,
    outcome: decided ? `${view.status} by ${safeText(by, MAX_LINE)}${reason}` : view.status === 'pending' ? null : view.status,
    flagged: flaggedOf(view),
    consoleUrl,
  };
}

const MAX_FLAGGED = 8;

function flaggedOf(view: ActionView): string[] {
  const found = flaggedPaths({ tool: view.tool, purpose: view.purpose, arguments: view.arguments }, '');
  const lines = found
    .slice(0, MAX_FLAGGED)
    .map((f) => `${safeText(f.path.replace(/^\./, ''), 120)}: ${[...f.flags].map((x) => FLAG_TEXT[x]).join(', ')}`);
  if (found.length > MAX_FLAGGED) lines.push(`… and ${found.length - MAX_FLAGGED} more places`);
  return lines;
}

/** The action's page in the reviewer console, on the configured public URL. */
export function consoleUrlOf(publicUrl: string, actionId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/actions/${encodeURIComponent(actionId)}`;
}
