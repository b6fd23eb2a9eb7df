import type { Action } from './types.js';

/** An error answer from the gateway (or no answer): `code` is the gateway's error code. */
export class CountersignError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CountersignError';
  }
}

/**
 * The action was not approved (denied, expired or cancelled). `message` is
 * written for the model: "Denied by alice@example.com: not during the freeze".
 */
export class ApprovalRefused extends Error {
  readonly status: Action['status'];
  readonly reason: string | null;
  readonly decidedBy: string | null;
  constructor(readonly action: Action) {
    super(refusalMessage(action));
    this.name = 'ApprovalRefused';
    this.status = action.status;
    this.reason = action.reason;
    this.decidedBy = action.decided_by?.label ?? null;
  }
}

/**
 * The text a model should read when its tool call was not run.
 *
 * @example
 * refusalMessage(action); // 'Denied by alice@example.com: not during the freeze. The tool "deploy" was not run.'
 */
export function refusalMessage(a: Action): string {
  const who =
    a.decided_by?.type === 'user'
      ? ` by ${a.decided_by.label}`
      : a.decided_by?.type === 'policy'
        ? ` by policy rule "${a.decided_by.label}"`
        : '';
  const why = a.reason ? `: ${a.reason}` : '';
  switch (a.status) {
    case 'denied':
      return `Denied${who}${why}. The tool "${a.tool}" was not run.`;
    case 'expired':
      return `Not approved in time${why ? why : ''}. The tool "${a.tool}" was not run.`;
    case 'cancelled':
      return `Cancelled${why}. The tool "${a.tool}" was not run.`;
    default:
      return `The tool "${a.tool}" was not run (status ${a.status}).`;
  }
}
