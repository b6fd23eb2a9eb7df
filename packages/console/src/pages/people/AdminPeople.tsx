import { type FormEvent, type ReactNode, useState } from 'react';
import { admin } from '../../api/people.js';
import type { PersonView, ResetLink, Role } from '../../api/people-types.js';
import { type AdminSection, Link } from '../../router.js';
import { Alert, Confirm, OnceSecret, problem, useLoad, useOutcome } from './parts.js';
import { dateText, fromNow, parseGroups } from './words.js';

const ROLES: Role[] = ['admin', 'reviewer', 'viewer'];

/** A person's sign-in methods an admin can take away: linked SSO accounts and passkeys (a lost device). */
function SignInMethods({ person, onError }: { person: PersonView; onError: (s: string) => void }): ReactNode {
  const ids = useLoad(() => admin.identities(person.id));
  const keys = useLoad(() => admin.passkeys(person.id));
  const now = Date.now();
  return (
    <div className="sign-in-methods">
      <Alert text={ids.error ?? keys.error} />
      {ids.data && ids.data.items.length > 0 && (
        <ul className="plain-list" aria-label={`Single sign-on accounts of ${person.email}`}>
          {ids.data.items.map((i) => (
            <li key={`${i.issuer} ${i.subject}`}>
              <span className="small">
                SSO <code>{i.subject}</code> at {i.issuer}
                {i.last_sign_in_at ? ` · last sign-in ${fromNow(i.last_sign_in_at, now)}` : ' · never signed in'}
              </span>{' '}
              <Confirm
                label="Unlink"
                question={`Unlink the SSO account ${i.subject} (${i.issuer}) from ${person.email}? It can no longer sign in here.`}
                confirmLabel={`Unlink ${i.subject}`}
                onConfirm={() => admin.unlinkIdentity(person.id, i.issuer, i.subject).then(ids.reload, (e) => onError(problem(e)))}
              />
            </li>
          ))}
        </ul>
      )}
      {keys.data && keys.data.items.length > 0 && (
        <ul className="plain-list" aria-label={`Passkeys of ${person.email}`}>
          {keys.data.items.map((p) => (
            <li key={p.id}>
              <span className="small">
                Passkey “{p.name}” · added {fromNow(p.created_at, now)}
                {p.last_used_at ? ` · last used ${fromNow(p.last_used_at, now)}` : ''}
              </span>{' '}
              <Confirm
                label="Remove passkey"
                question={`Remove the passkey “${p.name}” of ${person.email}?${keys.data?.items.length === 1 ? ' It is their last: their second factor is off until they add one.' : ''}`}
                confirmLabel={`Remove “${p.name}”`}
                onConfirm={() => admin.removePasskey(person.id, p.id).then(keys.reload, (e) => onError(problem(e)))}
              />
            </li>
          ))}
        </ul>
      )}
      {ids.data && keys.data && ids.data.items.length === 0 && keys.data.items.length === 0 && (
        <p className="small muted">No SSO account linked, no passkey.</p>
      )}
    </div>
  );
}

function PersonCard({ person, reload, isMe }: { person: PersonView; reload: () => void; isMe: boolean }): ReactNode {
  const outcome = useOutcome(reload);
  const { failed, done, setFailed } = outcome;
  const [link, setLink] = useState<ResetLink | null>(null);
  const p = person;

  const run = (what: () => Promise<unknown>, ok: string) =>
    outcome.run(async () => {
      await what();
      return ok;
    });

  function role(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const r = String(new FormData(e.currentTarget).get('role')) as Role;
    void run(() => admin.setRole(p.id, r), `${p.email} is now ${r}.`);
  }
  function groups(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const g = parseGroups(String(new FormData(e.currentTarget).get('groups') ?? ''));
    void run(() => admin.setGroups(p.id, g), g.length ? `${p.email} is in ${g.join(', ')}.` : `${p.email} is in no group.`);
  }

  return (
    <li className={p.disabled ? 'people-card disabled' : 'people-card'} data-person={p.email}>
      <div className="people-card-head">
        <strong>{p.email}</strong>
        {p.name !== p.email && <span className="muted">{p.name}</span>}
        <span className="badge">{p.role}</span>
        {p.disabled && <span className="badge bad">disabled</span>}
        {isMe && <span className="badge current">you</span>}
      </div>
      <p className="small muted">
        Groups: {p.groups.length ? p.groups.join(', ') : 'none'} · {p.active_keys} API {p.active_keys === 1 ? 'key' : 'keys'} · added{' '}
        <span title={dateText(p.created_at)}>{fromNow(p.created_at, Date.now())}</span>
      </p>
      <SignInMethods person={p} onError={setFailed} />
      <Alert text={failed} />
      {done && (
        <p className="ok small" role="status">
          {done}
        </p>
      )}
      {link && (
        <OnceSecret
          title={`Password-reset link for ${link.email}`}
          secret={link.url}
          note={`Give it to ${link.email} yourself: it works once, until ${dateText(link.expires_at)}, and is not shown again.`}
          onDone={() => setLink(null)}
        />
      )}
      <div className="card-forms">
        <form className="inline-form" onSubmit={role}>
          <label>
            Role of {p.email}
            <select name="role" defaultValue={p.role} key={p.role}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Change role</button>
        </form>
        <form className="inline-form" onSubmit={groups}>
          <label>
            Groups of {p.email} (comma-separated)
            <input name="groups" defaultValue={p.groups.join(', ')} key={p.groups.join(',')} />
          </label>
          <button type="submit">Set groups</button>
        </form>
      </div>
      <div className="card-actions">
        {p.disabled ? (
          <button type="button" onClick={() => void run(() => admin.enablePerson(p.id), `${p.email} is enabled again.`)}>
            Enable
          </button>
        ) : (
          <Confirm
            label="Disable"
            question={`Disable ${p.email}? Their sessions and keys stop working at once and their grants are suspended.`}
            confirmLabel={`Disable ${p.email}`}
            onConfirm={() => run(() => admin.disablePerson(p.id), `${p.email} is disabled.`)}
          />
        )}
        {!p.disabled && (
          <button
            type="button"
            onClick={() =>
              void run(async () => setLink(await admin.resetLink(p.email)), `A password-reset link for ${p.email} was issued.`)
            }
          >
            Password-reset link
          </button>
        )}
      </div>
    </li>
  );
}

/** /admin/people: everyone, their role, groups, state and sign-in methods; add a person; change them. */
export function AdminPeople({ myId }: { myId: string }): ReactNode {
  const { data, error, reload } = useLoad(admin.people);
  const { failed, done, run } = useOutcome(reload);

  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const name = String(f.get('name') ?? '').trim();
    const groups = parseGroups(String(f.get('groups') ?? ''));
    void run(async () => {
      const r = await admin.addPerson({
        email: String(f.get('email') ?? '').trim(),
        role: String(f.get('role')) as Role,
        ...(name ? { name } : {}),
        ...(groups.length ? { groups } : {}),
      });
      form.reset();
      return `${r.user.email} was added as ${r.user.role}. Give them a password-reset link to set a password, or link their SSO account.`;
    });
  }

  return (
    <main className="people-page">
      <h1>People</h1>
      <AdminNav here="people" />
      <section aria-labelledby="add-person-h">
        <h2 id="add-person-h">Add a person</h2>
        <form className="add-form" onSubmit={add}>
          <label>
            Email
            <input name="email" type="email" required maxLength={320} />
          </label>
          <label>
            Name (optional)
            <input name="name" maxLength={200} />
          </label>
          <label>
            Role
            <select name="role" defaultValue="reviewer">
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <label>
            Groups (comma-separated)
            <input name="groups" />
          </label>
          <button type="submit" className="primary form-submit">
            Add person
          </button>
        </form>
        <Alert text={failed} />
        {done && (
          <p className="ok" role="status">
            {done}
          </p>
        )}
      </section>
      <section aria-labelledby="people-h">
        <h2 id="people-h">Everyone{data ? ` (${data.items.length})` : ''}</h2>
        <Alert text={error} />
        {data && (
          <ul className="people-list">
            {data.items.map((p) => (
              <PersonCard key={p.id} person={p} reload={reload} isMe={p.id === myId} />
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}

const SECTIONS: [AdminSection, string][] = [
  ['people', 'People'],
  ['groups', 'Groups'],
  ['agents', 'Agents'],
  ['keys', 'API keys'],
  ['grants', 'Standing grants'],
];

/** The administration pages' own links. */
export function AdminNav({ here }: { here: AdminSection }): ReactNode {
  return (
    <nav className="admin-nav" aria-label="Administration">
      {SECTIONS.map(([s, label]) =>
        s === here ? (
          <span key={s} aria-current="page" className="here">
            {label}
          </span>
        ) : (
          <Link key={s} to={`/admin/${s}`}>
            {label}
          </Link>
        ),
      )}
    </nav>
  );
}
