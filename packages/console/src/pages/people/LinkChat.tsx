import { type ReactNode, useEffect, useState } from 'react';
import { account } from '../../api/people.js';
import type { ChatLinkPreview, ConfirmedChatLink } from '../../api/people-types.js';
import type { Me } from '../../api/types.js';
import { SafeText } from '../../components/SafeText.js';
import { Link } from '../../router.js';
import { chatLinkToken, forgetChatLinkToken } from './chat-link-token.js';
import { platformName, workspaceWord } from './chat-words.js';
import { Alert, problem } from './parts.js';

type State =
  | { step: 'loading' }
  | { step: 'no-link' }
  | { step: 'refused'; message: string }
  | { step: 'ask'; preview: ChatLinkPreview; token: string }
  | { step: 'linked'; link: ConfirmedChatLink }
  | { step: 'declined' };

/**
 * /link-chat: the page a Slack or Teams "link your account" message opens. Shows which chat account would
 * be linked to the signed-in person and links it only on Confirm. The chat name is chat-supplied text, drawn
 * as text with hidden characters shown.
 */
export function LinkChat({ me }: { me: Me }): ReactNode {
  const [state, setState] = useState<State>({ step: 'loading' });
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);

  useEffect(() => {
    const token = chatLinkToken();
    if (token === null) {
      setState({ step: 'no-link' });
      return;
    }
    let live = true;
    account.previewChatLink(token).then(
      (preview) => live && setState({ step: 'ask', preview, token }),
      (e: unknown) => {
        if (!live) return;
        forgetChatLinkToken();
        setState({ step: 'refused', message: problem(e) });
      },
    );
    return () => {
      live = false;
    };
  }, []);

  async function confirm(token: string) {
    setBusy(true);
    setFailed(null);
    try {
      const link = await account.confirmChatLink(token);
      forgetChatLinkToken();
      setState({ step: 'linked', link });
    } catch (e) {
      setFailed(problem(e));
    } finally {
      setBusy(false);
    }
  }

  function decline() {
    forgetChatLinkToken();
    setState({ step: 'declined' });
  }

  return (
    <main className="people-page" data-testid="link-chat">
      <h1>Link a chat account</h1>
      {state.step === 'loading' && <p aria-busy="true">Loading…</p>}
      {state.step === 'no-link' && (
        <p>
          There is no chat link to confirm in this tab. Ask the chat app for a new link, or see your linked accounts on{' '}
          <Link to="/account">your account</Link>.
        </p>
      )}
      {state.step === 'refused' && <Alert text={state.message} />}
      {state.step === 'ask' && (
        <section aria-labelledby="link-chat-q">
          <p id="link-chat-q" className="link-chat-question">
            Link {platformName(state.preview.platform)} account <SafeText value={state.preview.display} limit={200} /> (
            {workspaceWord(state.preview.platform)} <code>{state.preview.workspace}</code>, user <code>{state.preview.user}</code>) to you,{' '}
            <strong>{me.email ?? me.name}</strong>?
          </p>
          <p className="small muted">
            Whoever uses that chat account can then approve and deny actions as you from {platformName(state.preview.platform)}. Confirm
            only if it is your own account and you asked for this link.
          </p>
          <Alert text={failed} />
          <div className="confirm-buttons">
            <button type="button" className="primary" disabled={busy} onClick={() => void confirm(state.token)}>
              Confirm
            </button>
            <button type="button" disabled={busy} onClick={decline}>
              Cancel
            </button>
          </div>
        </section>
      )}
      {state.step === 'linked' && (
        <p role="status">
          {state.link.already_linked ? 'Already linked' : 'Linked'}: {platformName(state.link.platform)} account{' '}
          {state.link.display !== null && <SafeText value={state.link.display} limit={200} />} is now yours, {state.link.email}. See{' '}
          <Link to="/account">your account</Link> to unlink it.
        </p>
      )}
      {state.step === 'declined' && (
        <p role="status">
          Nothing was linked. <Link to="/inbox">Go to the inbox</Link>.
        </p>
      )}
    </main>
  );
}
