import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError, api } from '../api/client.js';
import type { InboxItem } from '../api/types.js';
import { JsonView } from '../components/JsonView.js';
import { SafeText } from '../components/SafeText.js';
import { useLive } from '../live.js';
import { Link } from '../router.js';
import { Field, HostileSummary, Opt, Outcome, PAST, Workflow, who } from './action-parts.js';
import { BatchPanel } from './decide/BatchPanel.js';
import { Chain } from './decide/Chain.js';
import { KeyHelp } from './decide/KeyHelp.js';
import { ToolDefinition } from './decide/ToolDefinition.js';
import { useKeys } from './decide/use-keys.js';
import { Decide, StepUpNotice } from './decide.js';

/** One action on one screen: who proposed what, for whom and why, the arguments, the workflow, the decision. */
export function ActionPage({ id }: { id: string }): ReactNode {
  const [item, setItem] = useState<InboxItem | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [lost, setLost] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  useKeys((cmd) => {
    if (cmd !== 'help') return false;
    setHelp(true);
    return true;
  });
  const load = useCallback(() => {
    api.item(id).then(
      (i) => {
        setItem(i);
        setError(null);
      },
      (e: unknown) => setError(e instanceof ApiError ? e.message : 'The gateway cannot be reached.'),
    );
  }, [id]);
  useEffect(load, [load]);
  useLive(load, id);

  if (error && !item) {
    return (
      <main>
        <p className="error" role="alert">
          {error}
        </p>
        <Link to="/inbox">Back to the inbox</Link>
      </main>
    );
  }
  if (!item) return <main aria-busy="true">Loading…</main>;
  const a = item.action;
  return (
    <main className="action-page">
      <p>
        <Link to="/inbox">← Inbox</Link>
      </p>
      <header className="action-head">
        <h1>
          <SafeText value={a.tool} limit={200} />
        </h1>
        <span className={`status ${a.status}`} data-testid="status">
          {a.status}
        </span>
      </header>
      {lost && (
        <div className="banner conflict" role="alert" data-testid="lost-race">
          <strong>Someone else decided first.</strong> Your vote was not recorded: {lost}
          {a.status !== 'pending' && (
            <>
              {' '}
              It was <strong>{PAST[a.status]}</strong> by <strong>{who(a)}</strong>
              {a.reason !== null && (
                <>
                  {' '}
                  (“
                  <SafeText value={a.reason} limit={400} />
                  ”)
                </>
              )}
              .
            </>
          )}
        </div>
      )}
      <HostileSummary a={a} />
      <div className="action-grid">
        <div className="action-main">
          <dl className="facts">
            <Field label="Agent">
              <SafeText value={a.agent.name} limit={200} />
            </Field>
            <Field label="Owner">{item.owner ? item.owner.email : <span className="muted">unknown</span>}</Field>
            <Field label="On behalf of">
              <Opt value={a.on_behalf_of} />
            </Field>
            <Field label="Purpose">
              <Opt value={a.purpose} limit={1000} />
            </Field>
            <Field label="Resource">
              <Opt value={a.resource} />
            </Field>
            <Field label="Session">
              <Opt value={a.session_id} />
            </Field>
            {a.parent_id !== null && (
              <Field label="Part of">
                <Link to={`/actions/${a.parent_id}`}>parent action</Link>
                {a.root_id !== null && a.root_id !== a.parent_id && (
                  <>
                    {' '}
                    · <Link to={`/actions/${a.root_id}`}>root</Link>
                  </>
                )}
              </Field>
            )}
            <Field label="Rule">
              <SafeText value={a.policy.rule} limit={200} /> ({a.policy.effect}
              {a.policy.hash ? `, policy ${a.policy.hash.slice(0, 12)}` : ''})
            </Field>
            <Field label="Proposed">{new Date(a.created_at).toLocaleString()}</Field>
          </dl>
          <h2>Arguments{a.edited ? ' (edited by a reviewer)' : ''}</h2>
          <JsonView value={a.arguments} label="Arguments" />
          {a.original_arguments && (
            <>
              <h3>As the agent proposed them</h3>
              <JsonView value={a.original_arguments} label="Original arguments" />
            </>
          )}
          <ToolDefinition a={a} />
          <Chain a={a} />
        </div>
        {/* After the details on a phone (read, then decide); beside them on a wide screen. */}
        <aside className="action-side" aria-label="Review and decision">
          <Outcome a={a} />
          <StepUpNotice a={a} />
          {a.status === 'pending' && (
            <Decide
              item={item}
              onDecided={(decided) => setItem({ ...item, action: decided, can_decide: false, why_not: null, may_vote_for: [] })}
              onLost={(msg) => {
                setLost(msg);
                load();
              }}
            />
          )}
          {a.batch_id !== null && <BatchPanel batchId={a.batch_id} current={a.id} />}
          <h2>Review</h2>
          <Workflow a={a} />
          {a.reviews.length > 0 && (
            <ul className="votes">
              {a.reviews.map((r) => (
                <li key={r.id}>
                  {r.reviewer.email}
                  {r.for !== null && <> for {r.for.email}</>} {r.decision === 'approve' ? 'approved' : 'denied'}
                  {r.edited ? ' with edits' : ''} via {r.channel}, {new Date(r.at).toLocaleString()}
                  {r.reason !== null && (
                    <>
                      : “<SafeText value={r.reason} limit={400} />”
                    </>
                  )}
                </li>
              ))}
            </ul>
          )}
        </aside>
      </div>
      <p className="small muted key-hint">
        Press <kbd>?</kbd> for keyboard shortcuts.
      </p>
      <KeyHelp open={help} onClose={() => setHelp(false)} where="action" />
    </main>
  );
}
