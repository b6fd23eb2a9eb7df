import { readFileSync } from 'node:fs';
import type { ProposedAction } from '@countersign/sdk';
import { parseDuration } from '../../lib/duration.js';
import { CsError } from '../../lib/errors.js';
import { assertStrictJson } from '../../lib/strict-json.js';

/** `countersign propose`'s options as commander hands them over. */
export interface ProposeOptions {
  tool: string;
  args?: string;
  argsFile?: string;
  purpose?: string;
  resource?: string;
  onBehalfOf?: string;
  session?: string;
  idempotencyKey?: string;
  wait?: boolean;
  timeout?: string;
  redeem?: boolean;
  reviewUrl?: string;
  json?: boolean;
}

/** Everything the command needs, checked before anything is sent: a mistake here proposes nothing. */
export interface ProposeRequest {
  action: ProposedAction;
  idempotencyKey: string | undefined;
  wait: boolean;
  /** Milliseconds; undefined = wait until decided (the workflow's expiry decides at the latest). */
  timeoutMs: number | undefined;
  redeem: boolean;
  gatewayUrl: string;
  agentKey: string;
  /** Where a person reviews the action; `{id}` is replaced. */
  reviewUrl: string;
  json: boolean;
}

const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8700';

/** Validates the options and the environment (COUNTERSIGN_URL, COUNTERSIGN_AGENT_KEY, COUNTERSIGN_REVIEW_URL). */
export function proposeRequest(o: ProposeOptions, env: NodeJS.ProcessEnv, readStdin: () => string): ProposeRequest {
  if (o.args !== undefined && o.argsFile !== undefined) throw new CsError('invalid_request', 'give --args or --args-file, not both');
  const argsText = o.argsFile !== undefined ? readArgsFile(o.argsFile, readStdin) : (o.args ?? '{}');
  const action: ProposedAction = {
    tool: o.tool,
    arguments: parseArguments(argsText, o.argsFile !== undefined ? `--args-file ${o.argsFile}` : '--args'),
    ...(o.purpose !== undefined ? { purpose: o.purpose } : {}),
    ...(o.resource !== undefined ? { resource: o.resource } : {}),
    ...(o.onBehalfOf !== undefined ? { on_behalf_of: o.onBehalfOf } : {}),
    ...(o.session !== undefined ? { session_id: o.session } : {}),
  };
  if (o.timeout !== undefined && !o.wait) {
    throw new CsError('invalid_request', '--timeout applies to --wait: add --wait, or leave --timeout out to return at once');
  }
  const timeoutMs = o.timeout === undefined ? undefined : parseTimeout(o.timeout);
  const gatewayUrl = (nonEmpty(env.COUNTERSIGN_URL) ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
  const reviewUrl = o.reviewUrl ?? nonEmpty(env.COUNTERSIGN_REVIEW_URL) ?? `${gatewayUrl}/actions/{id}`;
  if (!reviewUrl.includes('{id}')) throw new CsError('invalid_request', '--review-url (or COUNTERSIGN_REVIEW_URL) must contain {id}');
  // Checked last, so a malformed command is reported as such (exit 2) wherever it runs.
  const agentKey = nonEmpty(env.COUNTERSIGN_AGENT_KEY);
  if (!agentKey) {
    throw new CsError(
      'unauthenticated',
      'set COUNTERSIGN_AGENT_KEY to the key of the agent this script proposes as (from "countersign agents add NAME --owner EMAIL")' +
        (nonEmpty(env.COUNTERSIGN_KEY) ? "; COUNTERSIGN_KEY is a person's key for reviewing, and people cannot propose" : ''),
    );
  }
  return {
    action,
    idempotencyKey: o.idempotencyKey,
    wait: o.wait === true,
    timeoutMs,
    redeem: o.redeem === true,
    gatewayUrl,
    agentKey,
    reviewUrl,
    json: o.json === true,
  };
}

function readArgsFile(file: string, readStdin: () => string): string {
  try {
    return file === '-' ? readStdin() : readFileSync(file, 'utf8');
  } catch (e) {
    throw new CsError('invalid_request', `cannot read --args-file ${file}: ${(e as Error).message}`);
  }
}

/**
 * The arguments as a JSON object, refusing what the gateway could not store exactly: JSON.parse would
 * round an integer beyond 2^53 silently, and the person would then approve a number nobody wrote.
 */
export function parseArguments(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CsError('invalid_request', `${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CsError('invalid_request', `${what} must be a JSON object`);
  assertStrictJson(text, value, what);
  return value as Record<string, unknown>;
}

function parseTimeout(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new CsError('invalid_request', `--timeout "${text}" is not a duration (use e.g. 90s, 30m, 2h)`);
  return ms;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
