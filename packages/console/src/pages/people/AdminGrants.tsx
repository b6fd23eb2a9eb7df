import { type ReactNode, useState } from 'react';
import { admin } from '../../api/people.js';
import type { GrantView } from '../../api/people-types.js';
import { SafeText } from '../../components/SafeText.js';
import { Link } from '../../router.js';
import { AdminNav } from './AdminPeople.js';
import { Alert, Confirm, problem, useLoad } from './parts.js';
import { dateText, grantStateText, usesText } from './words.js';

/** What a grant lets through, in words; the tool and arguments are the agent's text, drawn as text. */
function Scope({ g, agent }: { g: GrantView; agent: string }): ReactNode {
  return (
    <p className="small">
      Approves <SafeText value={g.tool} limit={200} /> by {agent}
      {g.session_id ? ` in session ${g.session_id} only` : ' in any session'}
      {'arguments' in g.match ? (
        <>
          {' '}
          with the arguments <SafeText value={JSON.stringify(g.match.arguments)} limit={400} />
        </>
      ) : (
        <>
          {' '}
          when <SafeText value={g.match.when} limit={400} />
        </>
      )}
    </p>
  );
}

/** /admin/grants: standing grants ("approve similar"), with scope, uses and expiry in words; revoke one. */
export function AdminGrants(): ReactNode {
  const { data, error, reload } = useLoad(async () => {
    const [grants, agents] = await Promise.all([admin.grants(), admin.agents()]);
    return { grants: grants.items, agents: new Map(agents.items.map((a) => [a.id, a.name])) };
  });
  const [failed, setFailed] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [all, setAll] = useState(false);
  const now = Date.now();

  async function revoke(g: GrantView, agent: string) {
    setFailed(null);
    setDone(null);
    try {
      await admin.revokeGrant(g.id);
      setDone(`Grant ${g.id} of ${agent} is revoked: its next similar action waits for a person again.`);
    } catch (e) {
      setFailed(problem(e));
    } finally {
      reload();
    }
  }

  const items = data?.grants.filter((g) => all || g.active) ?? [];
  return (
    <main className="people-page">
      <h1>Standing grants</h1>
      <AdminNav here="grants" />
      <p className="small muted">A standing grant approves an agent’s similar actions without asking, for a while or a number of uses.</p>
      <Alert text={error ?? failed} />
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} /> Show ended grants too
      </label>
      {data && items.length === 0 && <p className="muted">{all ? 'No grants.' : 'No grant in force.'}</p>}
      {items.length > 0 && (
        <ul className="people-list">
          {items.map((g) => {
            const agent = data?.agents.get(g.agent_id) ?? g.agent_id;
            return (
              <li key={g.id} className={g.active ? 'people-card' : 'people-card disabled'} data-grant={g.id}>
                <div className="people-card-head">
                  <strong>
                    <SafeText value={g.tool} limit={120} />
                  </strong>
                  <span className="muted">{agent}</span>
                  <span className={g.active ? 'badge current' : 'badge'}>{g.active ? 'in force' : 'ended'}</span>
                </div>
                <Scope g={g} agent={agent} />
                <p className="small muted">
                  {usesText(g.uses, g.max_uses)} · <span title={dateText(g.expires_at)}>{grantStateText(g, now)}</span> · granted by{' '}
                  {g.created_by.email} with <Link to={`/actions/${g.source_action_id}`}>this approval</Link>
                </p>
                {g.active && (
                  <Confirm
                    label="Revoke"
                    question={`Revoke grant ${g.id} of ${agent}? Its next similar action waits for a person again.`}
                    confirmLabel={`Revoke grant of ${agent}`}
                    onConfirm={() => revoke(g, agent)}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </main>
  );
}
