import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiError } from '../../api/client.js';
import { oversight } from '../../api/oversight.js';
import type { HistoryFilter } from '../../api/oversight-types.js';
import type { Action, ActionStatus } from '../../api/types.js';
import { SafeText } from '../../components/SafeText.js';
import { Link, navigate } from '../../router.js';
import { Timeline } from './Timeline.js';

const STATUSES: ActionStatus[] = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'executed', 'failed'];
const TEXT_FIELDS = ['agent', 'tool', 'decided_by', 'q', 'workflow'] as const;

/** The filters a history URL carries (?status=&agent=&…): the page is a link that can be shared. */
export function historyFilter(search: string): HistoryFilter {
  const p = new URLSearchParams(search);
  const f: HistoryFilter = {};
  const status = p.get('status');
  if (status && (STATUSES as string[]).includes(status)) f.status = status as ActionStatus;
  for (const k of TEXT_FIELDS) {
    const v = p.get(k);
    if (v) f[k] = v;
  }
  for (const k of ['from', 'to'] as const) {
    const v = p.get(k);
    if (v && !Number.isNaN(Date.parse(v))) f[k] = new Date(v).toISOString();
  }
  return f;
}

/** ISO 8601 to a datetime-local input's value, in this browser's zone. */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function Filters({ filter }: { filter: HistoryFilter }): ReactNode {
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const q = new URLSearchParams();
    for (const [k, v] of data.entries()) {
      if (typeof v !== 'string' || v.trim() === '') continue;
      // datetime-local is local time; the API takes an instant.
      q.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v.trim());
    }
    const s = q.toString();
    navigate(s === '' ? '/history' : `/history?${s}`);
  }
  const text = (name: (typeof TEXT_FIELDS)[number], label: string, hint?: string) => (
    <label>
      {label}
      <input name={name} defaultValue={filter[name] ?? ''} maxLength={name === 'q' ? 100 : 320} placeholder={hint} />
    </label>
  );
  // Keyed by the filter, so going back to another search shows that search's values.
  return (
    <form className="history-filters" onSubmit={submit} key={JSON.stringify(filter)} aria-label="Search the history">
      <label>
        Status
        <select name="status" defaultValue={filter.status ?? ''}>
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      {text('q', 'Purpose contains')}
      {text('agent', 'Agent', 'name or id')}
      {text('tool', 'Tool')}
      {text('decided_by', 'Decided by', 'email, rule, "expiry"')}
      {text('workflow', 'Workflow')}
      <label>
        From
        <input type="datetime-local" name="from" defaultValue={toLocalInput(filter.from)} />
      </label>
      <label>
        To
        <input type="datetime-local" name="to" defaultValue={toLocalInput(filter.to)} />
      </label>
      <div className="history-buttons">
        <button type="submit" className="primary">
          Search
        </button>
        <button type="button" onClick={() => navigate('/history')}>
          Clear
        </button>
      </div>
    </form>
  );
}

function decidedBy(a: Action): string | null {
  return a.decided_by === null ? null : (a.decided_by.label ?? a.decided_by.type);
}

function Row({ a }: { a: Action }): ReactNode {
  const [open, setOpen] = useState(false);
  const by = decidedBy(a);
  return (
    <li className="history-item" data-action-id={a.id} data-testid="history-item">
      <div className="history-line">
        <Link to={`/actions/${a.id}`} className="history-tool">
          <SafeText value={a.tool} limit={80} />
        </Link>
        <span className={`status ${a.status}`}>{a.status}</span>
      </div>
      <p className="small muted">
        by <SafeText value={a.agent.name} limit={80} /> · {new Date(a.created_at).toLocaleString()}
        {by !== null && (
          <>
            {' '}
            · decided by <SafeText value={by} limit={120} />
          </>
        )}
      </p>
      {a.purpose !== null && (
        <p className="history-purpose">
          <SafeText value={a.purpose} limit={200} />
        </p>
      )}
      <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? 'Hide timeline' : 'Show timeline'}
      </button>
      {open && <Timeline actionId={a.id} />}
    </li>
  );
}

/** Every action a person may see, searched and filtered, newest first, a page at a time (GET /v1/actions). */
export function History({ search }: { search: string }): ReactNode {
  const filter = historyFilter(search);
  const key = JSON.stringify(filter);
  const [items, setItems] = useState<Action[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const fail = (e: unknown) => setError(e instanceof ApiError ? e.message : 'The gateway cannot be reached.');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is the filter, by value
  useEffect(() => {
    setItems(null);
    setError(null);
    oversight.history({ ...filter, limit: '50' }).then((p) => {
      setItems(p.items);
      setCursor(p.next_cursor);
    }, fail);
  }, [key]);

  function more() {
    if (cursor === null) return;
    setLoading(true);
    oversight
      .history({ ...filter, limit: '50', cursor })
      .then((p) => {
        setItems((old) => [...(old ?? []), ...p.items]);
        setCursor(p.next_cursor);
      }, fail)
      .finally(() => setLoading(false));
  }

  return (
    <main className="history-page">
      <h1>History</h1>
      <Filters filter={filter} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p aria-busy="true">Loading…</p>}
      {items !== null && (
        <>
          <p className="muted small" data-testid="history-count" aria-live="polite">
            {items.length === 0
              ? 'No action matches.'
              : `${items.length}${cursor === null ? '' : '+'} action${items.length === 1 ? '' : 's'}, newest first`}
          </p>
          <ul className="history-list">
            {items.map((a) => (
              <Row key={a.id} a={a} />
            ))}
          </ul>
          {cursor !== null && (
            <button type="button" onClick={more} disabled={loading}>
              {loading ? 'Loading…' : 'Show older actions'}
            </button>
          )}
        </>
      )}
    </main>
  );
}
