import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiError, api } from '../../api/client.js';
import { account } from '../../api/people.js';
import type { PasskeyView } from '../../api/people-types.js';
import { assertPasskey, passkeyFailure } from '../../auth/passkey.js';
import { Alert, Confirm, useLoad } from './parts.js';
import { createPasskey } from './passkey-create.js';
import { ago, dateText } from './words.js';

/** What waits for a fresh sign-in: named, and run again once the person has confirmed. */
interface Pending {
  what: string;
  run: () => Promise<void>;
}

/**
 * My passkeys: add one (the browser's WebAuthn prompt), rename, remove. Adding and removing need a recent
 * sign-in; when the gateway says `reauthentication_required`, the page asks for it in place (a passkey
 * prompt, or signing in again) and then does what was asked.
 */
export function AccountPasskeys({ onSignedOut }: { onSignedOut: () => void }): ReactNode {
  const { data, error, reload } = useLoad(account.passkeys);
  const [failed, setFailed] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState<Pending | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);

  /** Runs `run`; a refusal for want of a recent sign-in keeps it for after the confirmation. */
  async function guarded(what: string, run: () => Promise<void>) {
    setFailed(null);
    setDone(null);
    setBusy(true);
    try {
      await run();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'reauthentication_required') setPending({ what, run });
      else setFailed(e instanceof ApiError ? e.message : passkeyFailure(e));
    } finally {
      setBusy(false);
      reload();
    }
  }

  async function confirmWithPasskey(p: Pending) {
    setBusy(true);
    setFailed(null);
    try {
      const options = await account.reauthOptions();
      await account.reauthVerify(await assertPasskey(options));
    } catch (e) {
      setFailed(passkeyFailure(e));
      setBusy(false);
      return;
    }
    setPending(null);
    setBusy(false);
    await guarded(p.what, p.run);
  }

  async function signInAgain() {
    try {
      await api.signOut();
    } finally {
      onSignedOut();
    }
  }

  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const name = String(new FormData(form).get('name') ?? '').trim() || 'Passkey';
    void guarded(`adding the passkey “${name}”`, async () => {
      const options = await account.passkeyOptions();
      const credential = await createPasskey(options);
      const added = await account.registerPasskey(name, credential);
      form.reset();
      setDone(`Passkey “${added.name}” added. Signing in now asks for it after your password.`);
    });
  }

  function rename(p: PasskeyView, e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get('name') ?? '').trim();
    void guarded(`renaming “${p.name}”`, async () => {
      const r = await account.renamePasskey(p.id, name);
      setRenaming(null);
      setDone(`Renamed to “${r.name}”.`);
    });
  }

  const now = Date.now();
  const hasPasskeys = (data?.items.length ?? 0) > 0;
  return (
    <section aria-labelledby="passkeys-h">
      <h2 id="passkeys-h">Passkeys</h2>
      <p className="small muted">
        A passkey (a security key, your phone, or this device) is asked for after your password, and lets you confirm risky approvals.
      </p>
      <Alert text={error ?? failed} />
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      {pending && (
        <div className="banner warning" role="alert" data-testid="reauth-panel">
          <p>
            For {pending.what} you must have signed in within the last few minutes. Nothing was changed yet: confirm it is you, and it goes
            ahead.
          </p>
          <div className="reauth-actions">
            {hasPasskeys && (
              <button type="button" className="primary" disabled={busy} onClick={() => void confirmWithPasskey(pending)}>
                Confirm with your passkey
              </button>
            )}
            <button type="button" disabled={busy} onClick={() => void signInAgain()}>
              Sign in again
            </button>
            <button type="button" className="link" disabled={busy} onClick={() => setPending(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {data && data.items.length === 0 && <p>You have no passkey yet.</p>}
      {data && data.items.length > 0 && (
        <ul className="people-list" data-testid="passkeys">
          {data.items.map((p) => (
            <li key={p.id} className="people-card" data-passkey-id={p.id}>
              <div className="people-card-head">
                <strong>{p.name}</strong>
                {p.device_type === 'multiDevice' && <span className="badge">synced</span>}
              </div>
              <p className="small muted">
                Added <span title={dateText(p.created_at)}>{ago(p.created_at, now)}</span> ·{' '}
                {p.last_used_at ? (
                  <>
                    last used <span title={dateText(p.last_used_at)}>{ago(p.last_used_at, now)}</span>
                  </>
                ) : (
                  'never used to sign in'
                )}
              </p>
              {renaming === p.id ? (
                <form className="inline-form" onSubmit={(e) => rename(p, e)}>
                  <label>
                    New name for “{p.name}”
                    <input name="name" defaultValue={p.name} maxLength={100} required />
                  </label>
                  <button type="submit" className="primary" disabled={busy}>
                    Save name
                  </button>
                  <button type="button" onClick={() => setRenaming(null)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <div className="card-actions">
                  <button type="button" onClick={() => setRenaming(p.id)}>
                    Rename
                  </button>
                  <Confirm
                    label="Remove"
                    question={
                      data.items.length === 1
                        ? `Remove the passkey “${p.name}”? It is your last: signing in will ask for your password only.`
                        : `Remove the passkey “${p.name}”?`
                    }
                    confirmLabel={`Remove “${p.name}”`}
                    onConfirm={() =>
                      guarded(`removing the passkey “${p.name}”`, async () => {
                        const r = await account.removePasskey(p.id);
                        setDone(`Passkey “${p.name}” removed${r.remaining === 0 ? '; you have none left' : ''}.`);
                      })
                    }
                  />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      <form className="inline-form" onSubmit={add}>
        <label>
          Name for a new passkey
          <input name="name" placeholder="e.g. Work laptop" maxLength={100} />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Waiting for your passkey…' : 'Add a passkey'}
        </button>
      </form>
    </section>
  );
}
