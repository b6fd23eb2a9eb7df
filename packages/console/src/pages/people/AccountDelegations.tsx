import { type FormEvent, type ReactNode, useState } from 'react';
import { account } from '../../api/people.js';
import type { DelegationView } from '../../api/people-types.js';
import { SafeText } from '../../components/SafeText.js';
import { Alert, Confirm, problem, useLoad } from './parts.js';
import { dateText, fromNow, localToIso } from './words.js';

function period(d: DelegationView, now: number): string {
  switch (d.state) {
    case 'upcoming':
      return `from ${dateText(d.starts_at)} until ${dateText(d.ends_at)}`;
    case 'active':
      return `until ${dateText(d.ends_at)} (${fromNow(d.ends_at, now)})`;
    case 'ended':
      return `ended ${fromNow(d.ends_at, now)}`;
    case 'revoked':
      return `revoked ${d.revoked_at ? fromNow(d.revoked_at, now) : ''}${d.revoked_by ? ` by ${d.revoked_by}` : ''}`;
    default:
      return d.state satisfies never;
  }
}

/** Out of office: give my vote to someone for a period, see and end those I gave, see those I hold. */
export function AccountDelegations(): ReactNode {
  const { data, error, reload } = useLoad(account.delegations);
  const [failed, setFailed] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const now = Date.now();

  async function give(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const ends = localToIso(String(f.get('ends_at') ?? ''));
    const starts = localToIso(String(f.get('starts_at') ?? ''));
    const reason = String(f.get('reason') ?? '').trim();
    setFailed(null);
    setDone(null);
    if (ends === undefined) {
      setFailed('Say until when the delegation lasts.');
      return;
    }
    setBusy(true);
    try {
      const d = await account.delegate({
        delegate: String(f.get('delegate') ?? '').trim(),
        ends_at: ends,
        ...(starts ? { starts_at: starts } : {}),
        ...(reason ? { reason } : {}),
      });
      form.reset();
      setDone(`${d.delegate.email} can vote for you ${period(d, Date.now())}.`);
    } catch (err) {
      setFailed(problem(err));
    } finally {
      setBusy(false);
      reload();
    }
  }

  async function revoke(d: DelegationView) {
    setFailed(null);
    setDone(null);
    try {
      await account.revokeDelegation(d.id);
      setDone(`${d.delegate.email} can no longer vote for you.`);
    } catch (err) {
      setFailed(problem(err));
    } finally {
      reload();
    }
  }

  return (
    <section aria-labelledby="delegations-h">
      <h2 id="delegations-h">Voting for each other (delegations)</h2>
      <p className="small muted">
        Away? Name someone who may vote for you for a period. Their votes read “them for you”; you can end it at any time.
      </p>
      <Alert text={error ?? failed} />
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      <form className="delegate-form" onSubmit={give}>
        <label>
          Who may vote for me (email)
          <input name="delegate" type="email" required maxLength={320} />
        </label>
        <label>
          From (empty: now)
          <input name="starts_at" type="datetime-local" />
        </label>
        <label>
          Until
          <input name="ends_at" type="datetime-local" required />
        </label>
        <label>
          Reason (shown to them)
          <input name="reason" maxLength={1000} placeholder="e.g. on leave" />
        </label>
        <button type="submit" className="primary form-submit" disabled={busy}>
          Give my vote
        </button>
      </form>
      {data && (
        <>
          <h3>My vote, given to</h3>
          {data.given.length === 0 ? (
            <p className="muted">Nobody.</p>
          ) : (
            <ul className="people-list" data-testid="given">
              {data.given.map((d) => (
                <li key={d.id} className={`people-card ${d.state}`} data-delegation-id={d.id}>
                  <div className="people-card-head">
                    <strong>{d.delegate.email}</strong>
                    <span className={`badge ${d.state}`}>{d.state}</span>
                  </div>
                  <p className="small muted">
                    {period(d, now)}
                    {d.reason && (
                      <>
                        {' · '}
                        <SafeText value={d.reason} limit={200} />
                      </>
                    )}
                  </p>
                  {(d.state === 'active' || d.state === 'upcoming') && (
                    <Confirm
                      label="End now"
                      question={`End the delegation of your vote to ${d.delegate.email}? They can no longer vote for you, at once.`}
                      confirmLabel={`End delegation to ${d.delegate.email}`}
                      onConfirm={() => revoke(d)}
                    />
                  )}
                </li>
              ))}
            </ul>
          )}
          <h3>Votes others gave me</h3>
          {data.held.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="people-list" data-testid="held">
              {data.held.map((d) => (
                <li key={d.id} className={`people-card ${d.state}`}>
                  <div className="people-card-head">
                    <strong>{d.delegator.email}</strong>
                    <span className={`badge ${d.state}`}>{d.state}</span>
                  </div>
                  <p className="small muted">
                    You can vote for them {period(d, now)}
                    {d.reason && (
                      <>
                        {' · '}
                        <SafeText value={d.reason} limit={200} />
                      </>
                    )}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
