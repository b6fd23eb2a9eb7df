import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api/client.js';
import { decideApi } from '../api/decide.js';
import type { FullInboxFilter } from '../api/decide-types.js';
import type { ActingFor, Inbox as InboxData, InboxEntry } from '../api/types.js';
import { Countdown } from '../components/Countdown.js';
import { SafeText } from '../components/SafeText.js';
import { useLive } from '../live.js';
import { Link, navigate } from '../router.js';
import { BatchPanel } from './decide/BatchPanel.js';
import { KeyHelp } from './decide/KeyHelp.js';
import { useKeys } from './decide/use-keys.js';

/** The age filter's choices (GET /v1/inbox?older_than=…). */
const AGES: { value: string; label: string }[] = [
  { value: '', label: 'any age' },
  { value: '15m', label: 'older than 15 minutes' },
  { value: '1h', label: 'older than 1 hour' },
  { value: '4h', label: 'older than 4 hours' },
  { value: '1d', label: 'older than 1 day' },
];
const FILTER_KEYS = ['agent', 'tool', 'workflow', 'older_than'] as const;

export function needYouText(n: number): string {
  if (n === 0) return 'Nothing needs your input';
  return n === 1 ? '1 action needs your input' : `${n} actions need your input`;
}

function Item({ item, selected }: { item: InboxEntry; selected: boolean }): ReactNode {
  const a = item.action;
  const stage = a.workflow?.stage;
  const [batchOpen, setBatchOpen] = useState(false);
  return (
    <li className={`inbox-item${item.can_decide ? ' mine' : ''}${selected ? ' selected' : ''}`} data-action-id={a.id}>
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
      {a.batch_id !== null && (
        <>
          <button type="button" className="link" aria-expanded={batchOpen} onClick={() => setBatchOpen(!batchOpen)}>
            {batchOpen ? 'Hide the batch' : 'Decide the whole batch…'}
          </button>
          {batchOpen && <BatchPanel batchId={a.batch_id} />}
        </>
      )}
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
  filter: FullInboxFilter;
  onCount: (n: number) => void;
  actingFor: ActingFor[];
}): ReactNode {
  const [data, setData] = useState<InboxData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(-1);
  const [help, setHelp] = useState(false);
  const [said, setSaid] = useState<string | null>(null);
  const load = useCallback(() => {
    decideApi.inbox(filter).then(
      (d) => {
        setData(d);
        setError(null);
        if (FILTER_KEYS.every((k) => !filter[k])) onCount(d.need_you);
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
    for (const k of FILTER_KEYS) {
      const v = String(f.get(k) ?? '').trim();
      if (v) q.set(k, v);
    }
    const s = q.toString();
    navigate(s ? `/inbox?${s}` : '/inbox');
  }

  const mine = data?.items.filter((i) => i.can_decide) ?? [];
  const others = data?.items.filter((i) => !i.can_decide) ?? [];
  const all = [...mine, ...others];
  const current = all[selected];

  /** Selection is focus: the selected item's link takes the keyboard focus, so it is visible and Enter follows it. */
  function select(i: number) {
    const n = Math.max(0, Math.min(all.length - 1, i));
    setSelected(n);
    document.querySelectorAll<HTMLAnchorElement>('.inbox-list .inbox-link')[n]?.focus();
  }
  async function approve(entry: InboxEntry) {
    const a = entry.action;
    if (!entry.can_decide || entry.why_not !== null) {
      setSaid(`You cannot approve ${a.tool} as yourself from here: open it to decide.`);
      return;
    }
    setSaid(null);
    try {
      await decideApi.review(a.id, { decision: 'approve' });
      setSaid(`Approved ${a.tool}.`);
      load();
    } catch (e) {
      setSaid(`${a.tool} was not approved: ${e instanceof ApiError ? e.message : 'the gateway cannot be reached'}.`);
    }
  }
  useKeys((cmd) => {
    if (cmd === 'help') {
      setHelp(true);
      return true;
    }
    if (all.length === 0) return false;
    switch (cmd) {
      case 'next':
        select(selected + 1);
        return true;
      case 'previous':
        select(selected < 0 ? 0 : selected - 1);
        return true;
      case 'open':
        if (!current) return false;
        navigate(`/actions/${current.action.id}`);
        return true;
      case 'approve':
        if (!current) return false;
        void approve(current);
        return true;
      case 'deny':
        if (!current) return false;
        navigate(`/actions/${current.action.id}#deny`);
        return true;
      case 'edit':
        if (!current) return false;
        navigate(`/actions/${current.action.id}#edit`);
        return true;
      default:
        return false;
    }
  });
  return (
    <main className="inbox">
      <h1 aria-live="polite" data-testid="need-you">
        {data ? needYouText(data.need_you) : 'Loading…'}
      </h1>
      <ActingForBanner actingFor={actingFor} />
      <form className="filters" onSubmit={applyFilter} key={FILTER_KEYS.map((k) => filter[k] ?? '').join('|')}>
        <label>
          Agent
          <input name="agent" defaultValue={filter.agent ?? ''} placeholder="any" />
        </label>
        <label>
          Tool
          <input name="tool" defaultValue={filter.tool ?? ''} placeholder="any" />
        </label>
        <label>
          Workflow
          <input name="workflow" defaultValue={filter.workflow ?? ''} placeholder="any" />
        </label>
        <label>
          Age
          <select name="older_than" defaultValue={filter.older_than ?? ''}>
            {AGES.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <p className="small muted key-hint">
        Keys: <kbd>j</kbd>/<kbd>k</kbd> select, <kbd>Enter</kbd> open, <kbd>a</kbd> approve, <kbd>?</kbd> all shortcuts.
      </p>
      <p role="status" data-testid="key-said" className={said ? 'banner' : 'sr-only'}>
        {said}
      </p>
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
                {mine.map((i, n) => (
                  <Item key={i.action.id} item={i} selected={n === selected} />
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
                {others.map((i, n) => (
                  <Item key={i.action.id} item={i} selected={mine.length + n === selected} />
                ))}
              </ul>
            )}
          </section>
        </>
      )}
      <KeyHelp open={help} onClose={() => setHelp(false)} where="inbox" />
    </main>
  );
}
