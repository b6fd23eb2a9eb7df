import { type FormEvent, type ReactNode, useState } from 'react';
import { admin } from '../../api/people.js';
import type { AgentView, IssuedKey } from '../../api/people-types.js';
import { AdminNav } from './AdminPeople.js';
import { Alert, Confirm, OnceSecret, useLoad, useOutcome } from './parts.js';
import { dateText, fromNow } from './words.js';

/** A new key, kept in this page's memory only until "Done": the gateway stores only its hash. */
interface Shown {
  agent: string;
  key: IssuedKey;
}

function AgentCard({ agent, reload, onKey }: { agent: AgentView; reload: () => void; onKey: (s: Shown) => void }): ReactNode {
  const { failed, done, run } = useOutcome(reload);
  const a = agent;
  const labels = Object.entries(a.labels);
  return (
    <li className={a.disabled ? 'people-card disabled' : 'people-card'} data-agent={a.name}>
      <div className="people-card-head">
        <strong>{a.name}</strong>
        {a.disabled && <span className="badge bad">disabled</span>}
      </div>
      <p className="small muted">
        Owner {a.owner} · {a.active_keys} {a.active_keys === 1 ? 'key' : 'keys'} · added{' '}
        <span title={dateText(a.created_at)}>{fromNow(a.created_at, Date.now())}</span>
        {labels.length > 0 && <> · {labels.map(([k, v]) => `${k}=${v}`).join(', ')}</>}
      </p>
      <Alert text={failed} />
      {done && (
        <p className="ok small" role="status">
          {done}
        </p>
      )}
      <div className="card-actions">
        {a.disabled ? (
          <button
            type="button"
            onClick={() =>
              void run(async () => {
                await admin.enableAgent(a.id);
                return `${a.name} is enabled again.`;
              })
            }
          >
            Enable
          </button>
        ) : (
          <>
            <Confirm
              label="Disable"
              question={`Disable the agent ${a.name}? Its keys are refused at once and its pending actions are cancelled.`}
              confirmLabel={`Disable ${a.name}`}
              onConfirm={() =>
                run(async () => {
                  const r = await admin.disableAgent(a.id);
                  return `${a.name} is disabled${r.cancelled.length ? `; ${r.cancelled.length} pending actions were cancelled` : ''}.`;
                })
              }
            />
            <button
              type="button"
              onClick={() =>
                void run(async () => {
                  onKey({ agent: a.name, key: await admin.newAgentKey(a.id) });
                  return `A new key was issued to ${a.name}; its other keys still work until you revoke them.`;
                })
              }
            >
              New key
            </button>
          </>
        )}
      </div>
    </li>
  );
}

/** /admin/agents: every agent with its owner; register one (its key shown once); disable, enable, new key. */
export function AdminAgents(): ReactNode {
  const { data, error, reload } = useLoad(admin.agents);
  const { failed, run } = useOutcome(reload);
  const [shown, setShown] = useState<Shown | null>(null);

  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    setShown(null);
    // The key is shown by OnceSecret, not as a "done" line.
    void run(async () => {
      const r = await admin.addAgent({ name: String(f.get('name') ?? '').trim(), owner: String(f.get('owner') ?? '').trim() });
      form.reset();
      setShown({ agent: r.agent.name, key: r.key });
      return null;
    });
  }

  return (
    <main className="people-page">
      <h1>Agents</h1>
      <AdminNav here="agents" />
      {shown && (
        <OnceSecret
          title={`API key of ${shown.agent}`}
          secret={shown.key.api_key}
          note="Copy it into the agent’s configuration now: it is shown this once and never again (the gateway keeps only its hash)."
          onDone={() => setShown(null)}
        />
      )}
      <section aria-labelledby="add-agent-h">
        <h2 id="add-agent-h">Register an agent</h2>
        <form className="add-form" onSubmit={add}>
          <label>
            Name
            <input name="name" required maxLength={128} />
          </label>
          <label>
            Owner (a person’s email)
            <input name="owner" type="email" required maxLength={320} />
          </label>
          <button type="submit" className="primary form-submit">
            Register agent
          </button>
        </form>
        <Alert text={failed} />
      </section>
      <section aria-labelledby="agents-h">
        <h2 id="agents-h">Every agent</h2>
        <Alert text={error} />
        {data && data.items.length === 0 && <p className="muted">No agents yet.</p>}
        {data && data.items.length > 0 && (
          <ul className="people-list">
            {data.items.map((a) => (
              <AgentCard key={a.id} agent={a} reload={reload} onKey={setShown} />
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
