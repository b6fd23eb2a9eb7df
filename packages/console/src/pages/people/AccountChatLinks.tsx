import type { ReactNode } from 'react';
import { account } from '../../api/people.js';
import type { ChatLinkView } from '../../api/people-types.js';
import { SafeText } from '../../components/SafeText.js';
import { platformName, workspaceWord } from './chat-words.js';
import { Alert, Confirm, useLoad, useOutcome } from './parts.js';
import { dateText } from './words.js';

/** My linked Slack and Teams accounts: what may approve and deny as me from chat; unlink any of them. */
export function AccountChatLinks(): ReactNode {
  const { data, error, reload } = useLoad(account.chatLinks);
  const { failed, done, run } = useOutcome(reload);

  const unlink = (l: ChatLinkView) =>
    run(async () => {
      await account.unlinkChat(l);
      return `Unlinked the ${platformName(l.platform)} account ${l.user}.`;
    });

  return (
    <section aria-labelledby="chat-links-h">
      <h2 id="chat-links-h">Chat accounts</h2>
      <p className="small muted">
        Slack and Teams accounts linked to you can approve and deny from chat. To link one, ask the chat app for a link and open it here.
      </p>
      <Alert text={error ?? failed} />
      {done && <p role="status">{done}</p>}
      {data && data.items.length === 0 && <p>No chat accounts are linked to you.</p>}
      {data && data.items.length > 0 && (
        <ul className="people-list" data-testid="chat-links">
          {data.items.map((l) => (
            <li key={`${l.platform}:${l.workspace}:${l.user}`} className="people-card">
              <div className="people-card-head">
                <strong>{platformName(l.platform)}</strong> {l.display !== null && <SafeText value={l.display} limit={200} />}
              </div>
              <p className="small muted">
                {workspaceWord(l.platform)} <code>{l.workspace}</code> · user <code>{l.user}</code> · linked{' '}
                <span title={l.linked_at}>{dateText(l.linked_at)}</span>
              </p>
              <Confirm
                label="Unlink"
                question={`Unlink the ${platformName(l.platform)} account ${l.user}? Its clicks are refused from then on.`}
                confirmLabel={`Unlink ${l.user}`}
                onConfirm={() => unlink(l)}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
