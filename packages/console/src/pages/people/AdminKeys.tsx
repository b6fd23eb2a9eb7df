import { type ReactNode, useState } from 'react';
import { admin } from '../../api/people.js';
import type { KeyView } from '../../api/people-types.js';
import { AdminNav } from './AdminPeople.js';
import { Alert, Confirm, problem, useLoad } from './parts.js';
import { ago, dateText, fromNow } from './words.js';

const ownerText = (k: KeyView) => `${k.principal_type === 'agent' ? 'agent' : 'person'} ${k.principal}`;

/** /admin/keys: every API key by its public prefix and owner; revoke one (with a question naming it). */
export function AdminKeys(): ReactNode {
  const { data, error, reload } = useLoad(admin.keys);
  const [failed, setFailed] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const now = Date.now();

  async function revoke(k: KeyView) {
    setFailed(null);
    setDone(null);
    try {
      const r = await admin.revokeKey(k.prefix);
      setDone(
        `Key ${k.prefix} of ${ownerText(k)} is revoked; ${r.remaining_keys} ${r.remaining_keys === 1 ? 'key remains' : 'keys remain'}.`,
      );
    } catch (e) {
      setFailed(problem(e));
    } finally {
      reload();
    }
  }

  const items = data?.items.filter((k) => showRevoked || k.revoked_at === null) ?? [];
  const revoked = data?.items.filter((k) => k.revoked_at !== null).length ?? 0;
  return (
    <main className="people-page">
      <h1>API keys</h1>
      <AdminNav here="keys" />
      <p className="small muted">Keys are listed by their public prefix; the secret part is never stored.</p>
      <Alert text={error ?? failed} />
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      {revoked > 0 && (
        <label className="check">
          <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.currentTarget.checked)} /> Show {revoked} revoked{' '}
          {revoked === 1 ? 'key' : 'keys'}
        </label>
      )}
      {data && items.length === 0 && <p className="muted">No keys in use.</p>}
      {items.length > 0 && (
        <ul className="people-list">
          {items.map((k) => (
            <li key={k.prefix} className={k.revoked_at ? 'people-card disabled' : 'people-card'} data-key={k.prefix}>
              <div className="people-card-head">
                <code>{k.prefix}</code>
                <strong>{k.principal}</strong>
                <span className="badge">{k.principal_type === 'agent' ? 'agent' : 'person'}</span>
                {k.revoked_at && <span className="badge bad">revoked</span>}
              </div>
              <p className="small muted">
                {k.label ? `“${k.label}” · ` : ''}issued <span title={dateText(k.created_at)}>{fromNow(k.created_at, now)}</span>
                {' · '}
                {k.last_used_at ? (
                  <>
                    last used <span title={dateText(k.last_used_at)}>{ago(k.last_used_at, now)}</span>
                  </>
                ) : (
                  'never used'
                )}
                {k.revoked_at && <> · revoked {fromNow(k.revoked_at, now)}</>}
              </p>
              {k.revoked_at === null && (
                <Confirm
                  label="Revoke"
                  question={`Revoke key ${k.prefix} of ${ownerText(k)}? Whatever uses it is refused from its next request.`}
                  confirmLabel={`Revoke ${k.prefix}`}
                  onConfirm={() => revoke(k)}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
