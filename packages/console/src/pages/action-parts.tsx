import { FLAG_TEXT, type Flag, flaggedPaths } from '@countersign/sdk/reveal';
import { type ReactNode, useMemo } from 'react';
import type { Action } from '../api/types.js';
import { Countdown } from '../components/Countdown.js';
import { JsonView } from '../components/JsonView.js';
import { SafeText } from '../components/SafeText.js';

/** The read-only parts of the action page: who decided, the facts, what is flagged, the workflow, the outcome. */

export const PAST: Record<Action['status'], string> = {
  pending: 'pending',
  approved: 'approved',
  denied: 'denied',
  expired: 'expired',
  cancelled: 'cancelled',
  executed: 'approved and executed',
  failed: 'approved; running it failed',
};

export function who(a: Action): string {
  const d = a.decided_by;
  if (!d) return 'nobody';
  switch (d.type) {
    case 'user':
      return d.label ?? d.id ?? 'a person';
    case 'policy':
      return `the policy (rule ${a.policy.rule})`;
    case 'grant':
      return 'a standing grant';
    case 'agent':
      return `the agent ${d.label ?? ''}`.trim();
    case 'system':
      return 'the gateway (deadline)';
  }
}

export function Field({ label, children }: { label: string; children: ReactNode }): ReactNode {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

export function Opt({ value, limit = 400 }: { value: string | null; limit?: number }): ReactNode {
  return value === null ? <span className="muted">none</span> : <SafeText value={value} limit={limit} />;
}

/** Everything the agent wrote, scanned once: where hidden characters or mixed alphabets hide. */
export function HostileSummary({ a }: { a: Action }): ReactNode {
  const found = useMemo(
    () =>
      flaggedPaths(
        {
          tool: a.tool,
          purpose: a.purpose,
          resource: a.resource,
          on_behalf_of: a.on_behalf_of,
          session_id: a.session_id,
          arguments: a.arguments,
          metadata: a.metadata,
        },
        'action',
      ),
    [a],
  );
  if (found.length === 0) return null;
  const all = new Set<Flag>(found.flatMap((f) => [...f.flags]));
  return (
    <div className="banner warning" role="alert" data-testid="hostile-warning">
      <strong>Look closely: this action contains {[...all].map((f) => FLAG_TEXT[f]).join(', ')}.</strong> They are shown as ⟦U+…⟧ markers or
      highlighted, in:{' '}
      {found.slice(0, 8).map((f, i) => (
        <span key={f.path + String(i)}>
          {i > 0 && ', '}
          <code>
            <SafeText value={f.path.replace(/^action\./, '')} limit={80} />
          </code>
        </span>
      ))}
      {found.length > 8 && ` and ${found.length - 8} more`}.
    </div>
  );
}

export function Workflow({ a }: { a: Action }): ReactNode {
  const w = a.workflow;
  if (!w) return <p className="muted">No review workflow (decided by {who(a)}).</p>;
  const s = w.stage;
  const needed = [
    ...s.approvers.users,
    ...s.approvers.groups.map((g) => `group ${g}`),
    ...s.approvers.roles.map((r) => `any ${r}`),
    ...(s.approvers.owner ? ["the agent's owner"] : []),
  ];
  return (
    <div className="workflow">
      <p>
        Workflow “<SafeText value={w.name} limit={80} />
        ”, stage {s.index + 1} of {s.of}: “<SafeText value={s.name} limit={80} />”
        {s.escalations > 0 && <span className="badge">escalated ×{s.escalations}</span>}
      </p>
      <progress max={s.quorum} value={s.approvals.length} aria-label="approvals in this stage" />
      <p>
        {s.approvals.length} of {s.quorum} approvals
        {s.approvals.length > 0 && <> ({s.approvals.join(', ')})</>}
        {a.status === 'pending' && s.still_needed > 0 && (
          <>
            ; {s.still_needed} more needed from: {needed.join(', ') || 'nobody listed'}
          </>
        )}
      </p>
      <dl className="facts compact">
        <Field label="Deadline">
          <Countdown at={w.expires_at} label="deadline" />
        </Field>
        {s.timeout_at !== null && (
          <Field label="Stage time-out">
            <Countdown at={s.timeout_at} label="time-out" />
          </Field>
        )}
      </dl>
    </div>
  );
}

export function Outcome({ a }: { a: Action }): ReactNode {
  if (a.status === 'pending') return null;
  return (
    <section className={`outcome ${a.status}`} aria-label="Decision" data-testid="outcome">
      <h2>
        {PAST[a.status][0]?.toUpperCase()}
        {PAST[a.status].slice(1)} by {who(a)}
      </h2>
      {a.decided_at && <p className="muted">{new Date(a.decided_at).toLocaleString()}</p>}
      {a.reason !== null && (
        <p>
          Reason: <SafeText value={a.reason} />
        </p>
      )}
      {(a.status === 'approved' || a.status === 'executed' || a.status === 'failed') && (
        <p>
          Receipt:{' '}
          {a.redeemed_at ? `redeemed ${new Date(a.redeemed_at).toLocaleString()}` : a.receipt ? 'issued, not redeemed yet' : 'none'}
          {a.execute_by && !a.redeemed_at && (
            <>
              {' '}
              (execution window: <Countdown at={a.execute_by} label="window" />)
            </>
          )}
        </p>
      )}
      {a.result && (
        <div>
          <p>Result: {a.result.outcome}</p>
          <JsonView value={a.result.output ?? null} label="Result output" />
        </div>
      )}
    </section>
  );
}
