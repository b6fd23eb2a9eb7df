import { type FormEvent, lazy, type ReactNode, type RefObject, Suspense, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api/client.js';
import { decideApi } from '../api/decide.js';
import type { FullReviewInput, ReviewSettings } from '../api/decide-types.js';
import type { Action, InboxItem, StepUpDetails, VoteFor } from '../api/types.js';
import { assertPasskey, passkeyFailure } from '../auth/passkey.js';
import { GrantForm } from './decide/GrantForm.js';
import { useKeys } from './decide/use-keys.js';

/** "5 minutes", "90 seconds", "2 hours": a step-up window in words. */
export function durationText(ms: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms % 3_600_000 === 0) return plural(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0) return plural(ms / 60_000, 'minute');
  return plural(Math.round(ms / 1000), 'second');
}

export function stepUpText(maxAgeMs: number): string {
  return `This stage needs you to have signed in strongly within the last ${durationText(maxAgeMs)}`;
}

/** The step-up stage's requirement, shown before voting (workflow.stage.step_up). */
export function StepUpNotice({ a }: { a: Action }): ReactNode {
  const s = a.workflow?.stage.step_up;
  if (!s || a.status !== 'pending') return null;
  return (
    <p className="banner step-up-notice" data-testid="step-up-notice">
      {stepUpText(s.max_age_ms)} (a passkey, or your identity provider) to approve. Denying needs nothing more.
    </p>
  );
}

/** The refusal's offer: re-authenticate with a passkey (then the approval is retried once) or through SSO. */
function StepUpPanel({
  details,
  onConfirmed,
  busy,
}: {
  details: StepUpDetails;
  onConfirmed: () => Promise<void>;
  busy: boolean;
}): ReactNode {
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const re = details.reauthenticate;
  async function withPasskey() {
    const routes = re?.passkey;
    if (!routes) return;
    setWorking(true);
    setError(null);
    try {
      const options = await api.reauthOptions(routes.options);
      const credential = await assertPasskey(options);
      await api.reauthVerify(routes.verify, credential);
    } catch (e) {
      setError(passkeyFailure(e));
      setWorking(false);
      return;
    }
    setWorking(false);
    await onConfirmed();
  }
  return (
    <div className="banner step-up" role="alert" data-testid="step-up-panel">
      <p>
        <strong>{details.step_up ? `${stepUpText(details.step_up.max_age_ms)}.` : 'This stage needs a recent strong sign-in.'}</strong> Your
        approval was not recorded yet. Confirm it is you, and it will be sent again.
      </p>
      <div className="step-up-actions">
        {re?.passkey && (
          <button type="button" className="primary" disabled={working || busy} onClick={() => void withPasskey()}>
            {working ? 'Waiting for your passkey…' : 'Confirm with your passkey'}
          </button>
        )}
        {re?.oidc && (
          <a className="button" href={re.oidc}>
            Sign in again with SSO
          </a>
        )}
        {!re?.passkey && !re?.oidc && <span>Sign out and sign in again with a passkey or SSO, then approve.</span>}
      </div>
      {error && <p className="error">{error}</p>}
    </div>
  );
}

/** Vote as myself, or for someone whose vote I hold; the choice is never made for me when both are open. */
function VoteAs({
  options,
  self,
  value,
  onChange,
}: {
  options: VoteFor[];
  self: boolean;
  value: string;
  onChange: (v: string) => void;
}): ReactNode {
  return (
    <fieldset className="vote-as">
      <legend>Vote as</legend>
      <label>
        <input type="radio" name="vote-as" value="" checked={value === ''} disabled={!self} onChange={() => onChange('')} />
        myself{self ? '' : ' (not an approver of this stage)'}
      </label>
      {options.map((o) => (
        <label key={o.delegation_id}>
          <input type="radio" name="vote-as" value={o.email} checked={value === o.email} onChange={() => onChange(o.email)} />
          for {o.email}
        </label>
      ))}
    </fieldset>
  );
}

const EditArgs = lazy(() => import('./decide/EditArgs.js'));

/** The reason box with the configured presets (console.deny_reasons); a preset fills the box, which stays editable. */
function DenyReason({
  presets,
  value,
  onChange,
  boxRef,
}: {
  presets: string[];
  value: string;
  onChange: (v: string) => void;
  boxRef: RefObject<HTMLTextAreaElement | null>;
}): ReactNode {
  return (
    <div className="deny-reason">
      {presets.length > 0 && (
        <label>
          Common reasons
          <select value="" onChange={(e) => e.target.value && onChange(e.target.value)}>
            <option value="">Choose one to fill in the reason…</option>
            {presets.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Reason for denying (the agent reads it)
        <textarea ref={boxRef} name="reason" rows={2} maxLength={4096} value={value} onChange={(e) => onChange(e.target.value)} />
      </label>
    </div>
  );
}

export function Decide({
  item,
  onDecided,
  onLost,
}: {
  item: InboxItem;
  onDecided: (a: Action) => void;
  onLost: (msg: string) => void;
}): ReactNode {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [stepUp, setStepUp] = useState<StepUpDetails | null>(null);
  const [extra, setExtra] = useState<VoteFor[]>([]);
  const [mode, setMode] = useState<'vote' | 'edit' | 'grant'>(() => (location.hash === '#edit' ? 'edit' : 'vote'));
  const [settings, setSettings] = useState<ReviewSettings | null>(null);
  const [reason, setReason] = useState('');
  const reasonBox = useRef<HTMLTextAreaElement>(null);
  // The approval a step-up interrupted, sent again once the person has re-authenticated.
  const pending = useRef<FullReviewInput | null>(null);
  const options = [...item.may_vote_for, ...extra.filter((x) => !item.may_vote_for.some((m) => m.email === x.email))];
  const self = item.why_not === null;
  const [voteFor, setVoteFor] = useState<string>(self ? '' : (item.may_vote_for[0]?.email ?? ''));
  const a = item.action;

  useEffect(() => {
    decideApi.settings().then(setSettings, () => undefined);
  }, []);
  useEffect(() => {
    if (location.hash === '#deny') reasonBox.current?.focus();
  }, []);

  async function decide(input: FullReviewInput, retry: boolean) {
    setBusy(true);
    setError(null);
    try {
      onDecided(await decideApi.review(a.id, { ...input, ...(voteFor ? { for: voteFor } : {}) }));
      setStepUp(null);
      pending.current = null;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'conflict') onLost(e.message);
      else if (e instanceof ApiError && e.code === 'step_up_required' && retry) {
        pending.current = input;
        setStepUp((e.details ?? {}) as StepUpDetails);
      } else if (e instanceof ApiError && e.code === 'forbidden' && Array.isArray(e.details?.may_vote_for)) {
        const may = e.details.may_vote_for as VoteFor[];
        setExtra(may);
        if (may[0]) setVoteFor(may[0].email);
        setError(`${e.message}. Choose whom you vote for below.`);
      } else setError(e instanceof ApiError ? e.message : 'The gateway cannot be reached.');
    } finally {
      setBusy(false);
    }
  }
  function deny(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const r = reason.trim();
    void decide({ decision: 'deny', ...(r ? { reason: r } : {}) }, true);
  }
  const mayDecide = item.can_decide || options.length > 0;
  useKeys((cmd) => {
    if (!mayDecide || busy) return false;
    if (cmd === 'approve' && mode === 'vote') {
      void decide({ decision: 'approve' }, true);
      return true;
    }
    if (cmd === 'deny') {
      setMode('vote');
      // After the render that shows the vote form again.
      requestAnimationFrame(() => reasonBox.current?.focus());
      return true;
    }
    if (cmd === 'edit') {
      setMode('edit');
      return true;
    }
    return false;
  });
  if (!mayDecide) {
    return a.status === 'pending' ? <p className="banner">You cannot decide this now: {item.why_not}</p> : null;
  }
  const forWhom = voteFor ? ` for ${voteFor}` : '';
  return (
    <section className="decide" aria-label="Your decision">
      {options.length > 0 && <VoteAs options={options} self={self} value={voteFor} onChange={setVoteFor} />}
      {mode === 'edit' && (
        <Suspense fallback={<p aria-busy="true">Loading the editor…</p>}>
          <EditArgs
            action={a}
            busy={busy}
            onApprove={(args) => void decide({ decision: 'approve', arguments: args }, true)}
            onCancel={() => setMode('vote')}
          />
        </Suspense>
      )}
      {mode === 'grant' && (
        <GrantForm
          action={a}
          settings={settings}
          busy={busy}
          onConfirm={(grant) => void decide({ decision: 'approve', grant }, true)}
          onCancel={() => setMode('vote')}
        />
      )}
      {mode === 'vote' && (
        <>
          <button type="button" className="primary approve" disabled={busy} onClick={() => void decide({ decision: 'approve' }, true)}>
            {`Approve${forWhom}`}
          </button>
          {/* Named without "approve" so the plain Approve button stays the one button of that name. */}
          <fieldset className="more-approvals">
            <legend className="sr-only">Other ways to approve</legend>
            <button type="button" disabled={busy} onClick={() => setMode('edit')}>
              Edit arguments…
            </button>
            {!voteFor && (
              <button type="button" disabled={busy} onClick={() => setMode('grant')}>
                Allow similar…
              </button>
            )}
          </fieldset>
        </>
      )}
      {/* After re-authenticating, the approval is sent again once; a second refusal is shown as an error. */}
      {stepUp && <StepUpPanel details={stepUp} busy={busy} onConfirmed={() => decide(pending.current ?? { decision: 'approve' }, false)} />}
      {mode === 'vote' && (
        <form onSubmit={deny} className="deny">
          <DenyReason presets={settings?.deny_reasons ?? []} value={reason} onChange={setReason} boxRef={reasonBox} />
          <button type="submit" className="danger" disabled={busy}>
            {`Deny${forWhom}`}
          </button>
        </form>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
