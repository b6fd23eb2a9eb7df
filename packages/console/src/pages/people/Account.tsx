import type { ReactNode } from 'react';
import type { Me } from '../../api/types.js';
import { AccountChatLinks } from './AccountChatLinks.js';
import { AccountDelegations } from './AccountDelegations.js';
import { AccountPasskeys } from './AccountPasskeys.js';
import { AccountSessions } from './AccountSessions.js';

/** /account: every person's own sessions, passkeys, delegations and linked chat accounts. */
export function Account({ me, onSignedOut }: { me: Me; onSignedOut: () => void }): ReactNode {
  return (
    <main className="people-page">
      <h1>Your account</h1>
      <p className="muted">
        {me.email ?? me.name} · {me.role ?? 'no role'}
        {me.groups && me.groups.length > 0 && <> · groups: {me.groups.join(', ')}</>}
      </p>
      <AccountSessions onSignedOut={onSignedOut} />
      <AccountPasskeys onSignedOut={onSignedOut} />
      <AccountDelegations />
      <AccountChatLinks />
    </main>
  );
}
