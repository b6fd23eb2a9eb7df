import { readFileSync } from 'node:fs';
import { type Action, type Client, createClient } from '@countersign/sdk';
import type { Command } from 'commander';
import { formatDuration } from '../../lib/duration.js';
import { CsError } from '../../lib/errors.js';
import { ExitStatus, outcomeExitCode } from '../exit-codes.js';
import { safeJson, safeLine } from '../output.js';
import { type ProposeOptions, type ProposeRequest, proposeRequest } from './propose-input.js';
import { asCsError, type ProposeResult, settle } from './propose-outcome.js';

type Out = (s: string) => void;

/**
 * `countersign propose`: scripts and CI jobs propose like any agent (an agent key, through the SDK's
 * client, the wire package), wait for a person, and get the decision and the arguments to run as one
 * JSON object on stdout; the exit status says which decision it was (exit-codes.ts). Progress goes to
 * stderr, so `$(countersign propose …)` captures only the JSON.
 */
export function registerPropose(program: Command, out: Out, err: Out): void {
  program
    .command('propose')
    .description(
      'propose an action as an agent and print the decision as JSON (uses COUNTERSIGN_URL and COUNTERSIGN_AGENT_KEY); ' +
        'exit 0 approved, 10 denied, 11 expired, 12 cancelled, 13 still pending, 14 approval already used (--redeem)',
    )
    .requiredOption('--tool <name>', 'the tool (what policy rules match on), e.g. deploy')
    .option('--args <json>', 'the arguments, a JSON object (default {})')
    .option('--args-file <file>', 'read the arguments from a file ("-" for stdin)')
    .option('--purpose <text>', 'why, shown to the reviewer')
    .option('--resource <text>', 'what it acts on, e.g. env:production')
    .option('--on-behalf-of <email>', 'the person the script acts for (they can never approve it)')
    .option('--session <id>', 'group related actions (e.g. the CI run)')
    .option(
      '--idempotency-key <key>',
      'the same key re-attaches to the same action instead of proposing again (CI: "$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT-deploy")',
    )
    .option('--wait', 'wait until the action is decided (event stream, long-poll fallback)')
    .option('--timeout <duration>', 'with --wait: stop waiting after this long (e.g. 30m); the action stays pending, exit 13')
    .option('--redeem', 'redeem an approval once, so this run is licensed once; a second redeem is refused (exit 14)')
    .option('--review-url <template>', 'where a person reviews the action, {id} replaced (default COUNTERSIGN_REVIEW_URL)')
    .option('--json', 'print the JSON object on one line (default: indented)')
    .action(async (o: ProposeOptions) => {
      const req = proposeRequest(o, process.env, () => readFileSync(0, 'utf8'));
      const res = await runProposal(req, err);
      out(safeJson(res, req.json ? 0 : 2));
      const status = outcomeExitCode(res.outcome);
      if (status !== 0) throw new ExitStatus(status);
    });
}

/** Propose (or re-attach by idempotency key), wait if asked, then settle: the outcome and what to print. */
export async function runProposal(req: ProposeRequest, progress: Out): Promise<ProposeResult> {
  const cs = createClient({ url: req.gatewayUrl, apiKey: req.agentKey });
  let action = await proposeOnce(cs, req);
  const url = req.reviewUrl.replaceAll('{id}', encodeURIComponent(action.id));
  if (action.status === 'pending' && req.wait) action = await waitForDecision(cs, action, url, req.timeoutMs, progress);
  else if (action.status === 'pending') progress(pendingLine(action, url));
  return settle(cs, action, req.redeem, url, progress);
}

async function proposeOnce(cs: Client, req: ProposeRequest): Promise<Action> {
  try {
    return await cs.propose(req.action, { ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}), redeem: req.redeem });
  } catch (e) {
    const ce = asCsError(e);
    if (ce instanceof CsError && ce.code === 'forbidden') {
      throw new CsError('forbidden', `${ce.message} (COUNTERSIGN_AGENT_KEY must be an agent's key, not a person's)`, { cause: e });
    }
    throw ce;
  }
}

function pendingLine(a: Action, url: string): string {
  const stage = a.workflow
    ? ` (workflow ${a.workflow.name}, stage ${a.workflow.stage.name}, ${a.workflow.stage.still_needed} approval(s) needed)`
    : '';
  return safeLine(
    `waiting for approval of ${a.tool}: ${url}${stage}; a reviewer runs "countersign approve ${a.id}" [--args JSON] or "countersign deny ${a.id} --reason TEXT"`,
  );
}

/**
 * Waits with the SDK (SSE, long-poll fallback, reconnects). SIGINT / SIGTERM (a cancelled CI job) stop
 * the wait, not the action: it stays pending, the command prints it and exits 13.
 */
async function waitForDecision(cs: Client, a: Action, url: string, timeoutMs: number | undefined, progress: Out): Promise<Action> {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Announced once the signals are handled: whoever reads this line may already stop the job.
  progress(pendingLine(a, url));
  try {
    const decided = await cs.waitForDecision(a.id, { signal: ctl.signal, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
    if (decided.status === 'pending') {
      progress(
        ctl.signal.aborted ? 'interrupted: stopped waiting' : `no decision within ${formatDuration(timeoutMs ?? 0)}: stopped waiting`,
      );
    }
    return decided;
  } catch (e) {
    throw asCsError(e);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
