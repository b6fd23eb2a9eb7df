import type { FormEvent, ReactNode } from 'react';
import { admin } from '../../api/people.js';
import { AdminNav } from './AdminPeople.js';
import { Alert, useLoad, useOutcome } from './parts.js';

/** /admin/groups: every group with its members; create an empty one (members are set on each person). */
export function AdminGroups(): ReactNode {
  const { data, error, reload } = useLoad(admin.groups);
  const { failed, done, run } = useOutcome(reload);

  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const description = String(f.get('description') ?? '').trim();
    void run(async () => {
      const g = await admin.addGroup(String(f.get('name') ?? '').trim(), description || undefined);
      form.reset();
      return `Group ${g.name} created. Add people to it on the People page.`;
    });
  }

  return (
    <main className="people-page">
      <h1>Groups</h1>
      <AdminNav here="groups" />
      <section aria-labelledby="add-group-h">
        <h2 id="add-group-h">Create a group</h2>
        <form className="add-form" onSubmit={add}>
          <label>
            Name
            <input name="name" required maxLength={200} />
          </label>
          <label>
            Description (optional)
            <input name="description" maxLength={1000} />
          </label>
          <button type="submit" className="primary form-submit">
            Create group
          </button>
        </form>
        <Alert text={failed} />
        {done && (
          <p className="ok" role="status">
            {done}
          </p>
        )}
      </section>
      <section aria-labelledby="groups-h">
        <h2 id="groups-h">Every group</h2>
        <Alert text={error} />
        {data && data.items.length === 0 && <p className="muted">No groups yet.</p>}
        {data && data.items.length > 0 && (
          <ul className="people-list">
            {data.items.map((g) => (
              <li key={g.id} className="people-card" data-group={g.name}>
                <div className="people-card-head">
                  <strong>{g.name}</strong>
                  <span className="badge">
                    {g.members.length} {g.members.length === 1 ? 'member' : 'members'}
                  </span>
                </div>
                {g.description && <p className="small">{g.description}</p>}
                <p className="small muted">{g.members.length ? g.members.join(', ') : 'Nobody yet.'}</p>
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
