import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError, api } from '../api/client.js';
import type { ActingFor, Inbox as InboxData, InboxEntry, InboxFilter } from '../api/types.js';
import { Countdown } from '../components/Countdown.js';
import { SafeText } from '../components/SafeText.js';
import { useLive } from '../live.js';
import { Link, navigate } from '../router.js';

export function needYouText(n: number): string {
  if (n === 0) return 'Nothing needs your input';
  return n === 1 ? '1 action needs your input' : `${n} actions need your input`;
}

function Item({ item }: { item: InboxEntry }): ReactNode {
  const a = item.action;
  const stage = a.workflow?.stage;
  return (
    <li className={item.can_decide ? 'inbox-item mine' : 'inbox-item'} data-action-id={a.id}>
      <Link to={`/actions/${a.id}`} className="inbox-link">
        <span className="inbox-tool">
          <SafeText value={a.tool} limit={80} />
        </span>
        <span className="inbox-agent">
          by <SafeText value={a.agent.name} limit={80} />
          {a.on_behalf_of !== null && (
            <>
              {' '}
              for <SafeText value={a.on_behalf_of} limit={80} />
            </>
          )}
        </span>
      </Link>
      {a.purpose !== null && (
        <p className="inbox-purpose">
          <SafeText value={a.purpose} limit={160} />
        </p>
      )}
      <p className="inbox-meta">
        {stage && (
          <span>
            Stage {stage.index + 1}/{stage.of} “<SafeText value={stage.name} limit={60} />” · {stage.approvals.length} of {stage.quorum}{' '}
            approvals
          </span>
        )}
        <Countdown at={a.expires_at} label="deadline" />
      </p>
      {item.may_vote_for.length > 0 && (
        <p className="small delegated" data-testid="vote-for">
          You can vote for {item.may_vote_for.map((m) => m.email).join(', ')}
          {item.why_not === null ? ' (or as yourself)' : ''}
        </p>
      )}
      {!item.can_decide && item.why_not && <p className="muted small">Not yours now: {item.why_not}</p>}
    </li>
  );
}

/** "24 Dec" (and the year when it is not this one). */
function day(iso: string): string {
  const d = new Date(iso);
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) });
}

/** The delegations I hold now: whose vote I may cast, and until when. */
export function ActingForBanner({ actingFor }: { actingFor: ActingFor[] }): ReactNode {
  if (actingFor.length === 0) return null;
  return (
    <p className="banner delegation" data-testid="acting-for">
      {actingFor.map((d, i) => (
        <span key={d.delegation_id}>
          {i > 0 && ' · '}
          You can vote for <strong>{d.email}</strong> until {day(d.until)}
        </span>
      ))}
      .
    </p>
  );
}

/** What I can decide now, then what waits on others; the count updates live as actions arrive and are decided. */
export function Inbox({
  filter,
  onCount,
  actingFor,
}: {
  filter: InboxFilter;
  onCount: (n: number) => void;
  actingFor: ActingFor[];
}): ReactNode {
  const [data, setData] = useState<InboxData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api.inbox(filter).then(
      (d) => {
        setData(d);
        setError(null);
        if (!filter.agent && !filter.tool) onCount(d.need_you);
      },
      (e: unknown) => setError(e instanceof ApiError ? e.message : 'The gateway cannot be reached.'),
    );
  }, [filter, onCount]);
  useEffect(load, [load]);
  useLive(load);

  function applyFilter(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const q = new URLSearchParams();
    for (const k of ['agent', 'tool']) {
      const v = String(f.get(k) ?? '').trim();
      if (v) q.set(k, v);
    }
    const s = q.toString();
    navigate(s ? `/inbox?${s}` : '/inbox');
  }

  const mine = data?.items.filter((i) => i.can_decide) ?? [];
  const others = data?.items.filter((i) => !i.can_decide) ?? [];
  return (
    <main className="inbox">
      <h1 aria-live="polite" data-testid="need-you">
        {data ? needYouText(data.need_you) : 'Loading…'}
      </h1>
      <ActingForBanner actingFor={actingFor} />
      <form className="filters" onSubmit={applyFilter} key={`${filter.agent ?? ''}|${filter.tool ?? ''}`}>
        <label>
          Agent
          <input name="agent" defaultValue={filter.agent ?? ''} placeholder="any" />
        </label>
        <label>
          Tool
          <input name="tool" defaultValue={filter.tool ?? ''} placeholder="any" />
        </label>
        <button type="submit">Filter</button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && (
        <>
          <section aria-labelledby="mine">
            <h2 id="mine">Needs you ({data.need_you})</h2>
            {mine.length === 0 ? (
              <p className="muted">Nothing for you to decide right now.</p>
            ) : (
              <ul className="inbox-list">
                {mine.map((i) => (
                  <Item key={i.action.id} item={i} />
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="others">
            <h2 id="others">Waiting on others ({data.waiting_on_others})</h2>
            {others.length === 0 ? (
              <p className="muted">Nothing else is pending.</p>
            ) : (
              <ul className="inbox-list">
                {others.map((i) => (
                  <Item key={i.action.id} item={i} />
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </main>
  );
}
