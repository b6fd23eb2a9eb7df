import type { Deps } from '../../deps.js';
import { formatDuration } from '../../lib/duration.js';
import { assertNever, CsError } from '../../lib/errors.js';
import type { Credential, UserPrincipal } from '../identities/principal.js';
import type { FrozenStage } from './frozen.js';

/** What the audit entry of a vote on a step-up stage records: the requirement, and the strong sign-in that met it. */
export interface StepUpMet {
  max_age_ms: number;
  strong_at: number;
}

/** Where the refusal sends the voter; built by the caller, which knows the transport's paths and configuration. */
export interface StepUpContext {
  now: number;
  /** Single sign-on is configured, so the IdP can be asked for a fresh authentication (max_age). */
  oidc: boolean;
  /** A path on this gateway to come back to after re-authenticating (the console's page of the action or batch). */
  returnTo: string;
}

/** The context of a vote cast now: `returnTo` is the console's page of what is being voted on. */
export function stepUpContext(deps: Pick<Deps, 'oidc'>, now: number, returnTo: string): StepUpContext {
  return { now, oidc: deps.oidc !== undefined, returnTo };
}

/** The passkey re-authentication routes (they refresh the current session's strong sign-in). */
export const PASSKEY_REAUTH = {
  options: '/v1/me/reauthenticate/passkey/options',
  verify: '/v1/me/reauthenticate/passkey/verify',
} as const;

/**
 * Whether this vote meets the stage's step-up requirement. Approvals only: a denial stops an action and is
 * never harder to cast than an approval. The voter must hold a browser session whose last strong
 * authentication (passkey, or IdP auth_time asked with max_age) is no older than `max_age` by the
 * injected clock. An API key or a chat identity never satisfies it, whoever holds it.
 * Returns what the vote's audit entry records (null when nothing was required); throws `step_up_required`.
 */
export function requireStepUp(
  principal: UserPrincipal,
  stage: FrozenStage,
  decision: 'approve' | 'deny',
  ctx: StepUpContext,
): StepUpMet | null {
  const req = stage.step_up;
  if (req === undefined || decision === 'deny') return null;
  const c = principal.credential;
  if (c.kind === 'session' && c.strongAt !== null && ctx.now - c.strongAt <= req.max_age_ms) {
    return { max_age_ms: req.max_age_ms, strong_at: c.strongAt };
  }
  const within = formatDuration(req.max_age_ms);
  throw new CsError(
    'step_up_required',
    `approving in stage "${stage.name}" needs a strong sign-in within the last ${within}: ${whyNot(c, ctx.now)}`,
    { details: refusalDetails(stage.name, req.max_age_ms, c, ctx) },
  );
}

function whyNot(c: Credential, now: number): string {
  switch (c.kind) {
    case 'api_key':
      return 'an API key never satisfies it; approve from a browser session and re-authenticate there';
    case 'chat':
      return `a ${c.platform} identity never satisfies it; approve from a browser session and re-authenticate there`;
    case 'email_link':
      return 'an email link never satisfies it; approve from a browser session and re-authenticate there';
    case 'session':
      return c.strongAt === null
        ? `this session was opened with ${c.method === 'oidc' ? 'single sign-on without a fresh authentication' : `a ${c.method.replace('_', ' ')}`} and has no strong sign-in; re-authenticate with a passkey or your identity provider`
        : `this session last authenticated strongly ${formatDuration(Math.max(0, Math.floor((now - c.strongAt) / 1000)) * 1000)} ago; re-authenticate with a passkey or your identity provider`;
    default:
      return assertNever(c, 'credential');
  }
}

/** What a console needs to offer re-authentication: the requirement, how the voter authenticated, where to go. */
function refusalDetails(stage: string, maxAgeMs: number, c: Credential, ctx: StepUpContext): Record<string, unknown> {
  const session = c.kind === 'session' ? c : null;
  // max_age=0: the IdP authenticates the person now, so the new session's strong sign-in is as fresh as it can be.
  const oidc = ctx.oidc ? `/v1/auth/oidc/login?${new URLSearchParams({ max_age: '0', return_to: ctx.returnTo }).toString()}` : null;
  return {
    stage,
    step_up: { max_age_ms: maxAgeMs },
    credential: c.kind,
    method: session?.method ?? null,
    strong_at: session?.strongAt == null ? null : new Date(session.strongAt).toISOString(),
    reauthenticate: {
      oidc,
      // Refreshes the session the request came with, so only a session can use it.
      passkey: session ? PASSKEY_REAUTH : null,
    },
  };
}
