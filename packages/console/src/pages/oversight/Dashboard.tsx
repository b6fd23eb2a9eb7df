import { type ReactNode, useEffect, useState } from 'react';
import { ApiError } from '../../api/client.js';
import { oversight } from '../../api/oversight.js';
import type { Stats, StatsQuery } from '../../api/oversight-types.js';
import type { ActionStatus } from '../../api/types.js';
import { SafeText } from '../../components/SafeText.js';
import { Link, navigate } from '../../router.js';
import { BarList, Lines, type Series, StackedBars } from './charts.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The ranges offered; a link may also carry from, to and bucket (GET /v1/stats's own). */
const RANGES = {
  '24h': { label: 'Last 24 hours', ms: DAY, bucket: 'hour' },
  '7d': { label: 'Last 7 days', ms: 7 * DAY, bucket: 'day' },
  '30d': { label: 'Last 30 days', ms: 30 * DAY, bucket: 'day' },
} as const;
type RangeKey = keyof typeof RANGES;

const OUTCOMES: (Series & { key: ActionStatus })[] = [
  { key: 'approved', label: 'Approved' },
  { key: 'executed', label: 'Executed' },
  { key: 'failed', label: 'Failed' },
  { key: 'denied', label: 'Denied' },
  { key: 'expired', label: 'Expired' },
  { key: 'cancelled', label: 'Cancelled' },
  { key: 'pending', label: 'Pending' },
];

export function statsQuery(search: string, now: number): { range: RangeKey | null; query: StatsQuery } {
  const p = new URLSearchParams(search);
  const from = p.get('from');
  const to = p.get('to');
  const bucket = p.get('bucket');
  if (from && to) return { range: null, query: { from, to, bucket: bucket === 'hour' ? 'hour' : 'day' } };
  const key = (p.get('range') ?? '7d') as RangeKey;
  const r = RANGES[key] ?? RANGES['7d'];
  return {
    range: key in RANGES ? key : '7d',
    query: { from: new Date(now - r.ms).toISOString(), to: new Date(now).toISOString(), bucket: r.bucket },
  };
}

/** 350 ms, 4.5 s, 45 s, 12 min, 3.5 h, 2.1 d. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < HOUR) return `${Math.round(ms / 60_000)} min`;
  if (ms < DAY) return `${(ms / HOUR).toFixed(1)} h`;
  return `${(ms / DAY).toFixed(1)} d`;
}

function bucketLabel(iso: string, bucket: 'hour' | 'day'): string {
  const d = new Date(iso);
  return bucket === 'hour'
    ? d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' });
}

function Tile({ label, value, id }: { label: string; value: string; id: string }): ReactNode {
  return (
    <div className="tile">
      <div className="tile-value" data-testid={id}>
        {value}
      </div>
      <div className="tile-label">{label}</div>
    </div>
  );
}

/** The numbers behind a chart, as a table (open by choice; screen readers reach it either way). */
function DataTable({ caption, head, rows }: { caption: string; head: string[]; rows: (string | number)[][] }): ReactNode {
  return (
    <details className="chart-table">
      <summary>{caption}: as a table</summary>
      <div className="table-scroll">
        <table>
          <caption className="sr-only">{caption}</caption>
          <thead>
            <tr>
              {head.map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
              <tr key={i}>
                {r.map((c, j) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function Figures({ s }: { s: Stats }): ReactNode {
  const labels = s.outcomes.map((b) => bucketLabel(b.start, s.bucket));
  const pending = s.pending_ages.reduce((a, b) => a + b.count, 0);
  const decided = s.decision_times.reduce((a, b) => a + b.decided, 0);
  return (
    <>
      <section className="tiles" aria-label="Summary">
        <Tile id="stat-total" label="actions proposed" value={String(s.totals.total)} />
        <Tile
          id="stat-approval-rate"
          label="approved of those decided"
          value={s.approval_rate === null ? '–' : `${Math.round(s.approval_rate * 100)}%`}
        />
        <Tile id="stat-denied" label="denied" value={String(s.totals.denied)} />
        <Tile id="stat-pending" label="pending now" value={String(pending)} />
      </section>

      <section aria-labelledby="h-outcomes">
        <h2 id="h-outcomes">Actions by outcome</h2>
        <StackedBars
          title={`Actions proposed per ${s.bucket}, by outcome`}
          description={`${s.totals.total} actions: ${OUTCOMES.map((o) => `${s.totals[o.key]} ${o.label.toLowerCase()}`).join(', ')}.`}
          rows={s.outcomes}
          labels={labels}
          series={OUTCOMES}
          prefix="seg"
        />
        <DataTable
          caption="Actions by outcome"
          head={[s.bucket === 'hour' ? 'Hour' : 'Day', ...OUTCOMES.map((o) => o.label)]}
          rows={s.outcomes.map((b, i) => [labels[i] ?? '', ...OUTCOMES.map((o) => b[o.key])])}
        />
      </section>

      <section aria-labelledby="h-times">
        <h2 id="h-times">Time to a person’s decision</h2>
        {decided === 0 ? (
          <p className="muted">No person decided an action proposed in this range.</p>
        ) : (
          <>
            <Lines
              title={`Median and 90th percentile time to decision per ${s.bucket}`}
              description={`${decided} decisions by people.`}
              labels={labels}
              series={[
                { key: 'p50', label: 'Median (p50)', values: s.decision_times.map((d) => d.p50_ms) },
                { key: 'p90', label: '90th percentile', values: s.decision_times.map((d) => d.p90_ms) },
              ]}
              format={duration}
              prefix="line"
            />
            <DataTable
              caption="Time to decision"
              head={[s.bucket === 'hour' ? 'Hour' : 'Day', 'Decided', 'p50', 'p90']}
              rows={s.decision_times
                .map((d, i) => [
                  labels[i] ?? '',
                  d.decided,
                  d.p50_ms === null ? '–' : duration(d.p50_ms),
                  d.p90_ms === null ? '–' : duration(d.p90_ms),
                ])
                .filter((r) => r[1] !== 0)}
            />
          </>
        )}
      </section>

      <div className="dash-grid">
        <section aria-labelledby="h-ages">
          <h2 id="h-ages">Pending now, by age</h2>
          <BarList label="Pending actions by age" items={s.pending_ages.map((a) => ({ name: a.label, count: a.count }))} />
        </section>
        <section aria-labelledby="h-tools">
          <h2 id="h-tools">Top tools</h2>
          {s.top_tools.length === 0 ? <p className="muted">None.</p> : <BarList label="Top tools" items={s.top_tools} />}
        </section>
        <section aria-labelledby="h-agents">
          <h2 id="h-agents">Top agents</h2>
          {s.top_agents.length === 0 ? <p className="muted">None.</p> : <BarList label="Top agents" items={s.top_agents} />}
        </section>
        <section aria-labelledby="h-reviewers">
          <h2 id="h-reviewers">Reviewer load</h2>
          {s.reviewers.length === 0 ? (
            <p className="muted">No votes in this range.</p>
          ) : (
            <div className="table-scroll">
              <table className="reviewers" data-testid="reviewers">
                <thead>
                  <tr>
                    <th scope="col">Reviewer</th>
                    <th scope="col">Votes</th>
                    <th scope="col">Approve</th>
                    <th scope="col">Deny</th>
                  </tr>
                </thead>
                <tbody>
                  {s.reviewers.map((r) => (
                    <tr key={r.reviewer}>
                      <td>
                        <SafeText value={r.reviewer} limit={120} />
                      </td>
                      <td>{r.votes}</td>
                      <td>{r.approve}</td>
                      <td>{r.deny}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </>
  );
}

/** Figures over a range (GET /v1/stats): outcomes, approval rate, time to decision, pending ages, leaders. Loaded on demand. */
export default function Dashboard({ search }: { search: string }): ReactNode {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { range, query } = statsQuery(search, Date.now());
  // Ranges relative to now are resolved when the search changes, not on every render.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the query is derived from `search`
  useEffect(() => {
    setStats(null);
    setError(null);
    oversight.stats(query).then(setStats, (e: unknown) => setError(e instanceof ApiError ? e.message : 'The gateway cannot be reached.'));
  }, [search]);
  return (
    <main className="dashboard-page">
      <h1>Dashboard</h1>
      <label className="range-pick">
        Range
        <select value={range ?? ''} onChange={(e) => navigate(`/dashboard?range=${e.target.value}`)}>
          {range === null && <option value="">Custom</option>}
          {(Object.keys(RANGES) as RangeKey[]).map((k) => (
            <option key={k} value={k}>
              {RANGES[k].label}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!stats && !error && <p aria-busy="true">Loading…</p>}
      {stats && (
        <>
          <p className="muted small">
            Actions proposed from {new Date(stats.from).toLocaleString()} to {new Date(stats.to).toLocaleString()}. Find them in the{' '}
            <Link to={`/history?from=${encodeURIComponent(stats.from)}&to=${encodeURIComponent(stats.to)}`}>history</Link>.
          </p>
          <Figures s={stats} />
        </>
      )}
    </main>
  );
}
