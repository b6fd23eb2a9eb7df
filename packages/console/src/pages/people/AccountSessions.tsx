import { type ReactNode, useState } from 'react';
import { account } from '../../api/people.js';
import type { SessionView } from '../../api/people-types.js';
import { Alert, Confirm, problem, useLoad } from './parts.js';
import { ago, dateText, deviceOf } from './words.js';

const METHOD: Record<SessionView['method'], string> = {
  password: 'a password',
  passkey: 'a password and passkey',
  oidc: 'single sign-on',
  setup_link: 'a set-up link',
};

/** My browser sessions: where I am signed in; end any of them (ending this one signs me out). */
export function AccountSessions({ onSignedOut }: { onSignedOut: () => void }): ReactNode {
  const { data, error, reload } = useLoad(account.sessions);
  const [failed, setFailed] = useState<string | null>(null);
  const now = Date.now();

  async function end(s: SessionView) {
    setFailed(null);
    try {
      await account.revokeSession(s.id);
      if (s.current) onSignedOut();
      else reload();
    } catch (e) {
      setFailed(problem(e));
      reload();
    }
  }

  return (
    <section aria-labelledby="sessions-h">
      <h2 id="sessions-h">Where you are signed in</h2>
      <Alert text={error ?? failed} />
      {data && (
        <ul className="people-list" data-testid="sessions">
          {data.items.map((s) => {
            const device = deviceOf(s.user_agent);
            const name = `${device}, signed in ${ago(s.created_at, now)}`;
            return (
              <li key={s.id} className="people-card" data-session-id={s.id}>
                <div className="people-card-head">
                  <strong>{device}</strong>
                  {s.current && <span className="badge current">This session</span>}
                </div>
                <p className="small muted">
                  Signed in with {METHOD[s.method]} <span title={dateText(s.created_at)}>{ago(s.created_at, now)}</span>
                  {' · '}last seen <span title={dateText(s.last_seen_at)}>{ago(s.last_seen_at, now)}</span>
                  {s.ip && <> · from {s.ip}</>}
                </p>
                {s.user_agent && <p className="small muted ua">{s.user_agent}</p>}
                <Confirm
                  label={s.current ? 'Sign out here' : 'End this session'}
                  question={
                    s.current
                      ? 'Sign out of this session (this browser)?'
                      : `End the session “${name}”? That browser is signed out at once.`
                  }
                  confirmLabel={s.current ? 'Sign out' : `End session on ${device}`}
                  onConfirm={() => end(s)}
                />
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
