import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiError, api } from '../api/client.js';
import type { PasskeyStep, SignInMethods } from '../api/types.js';
import { assertPasskey, passkeyFailure } from '../auth/passkey.js';

/** Email and password (POST /v1/auth/login), and single sign-on when the gateway has it; then back to `returnTo`. */
export function SignIn({ returnTo, onSignedIn }: { returnTo: string; onSignedIn: () => void }): ReactNode {
  const [methods, setMethods] = useState<SignInMethods | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** The password was right; the passkey step is next (kept so a cancelled prompt can be tried again). */
  const [step, setStep] = useState<PasskeyStep | null>(null);
  useEffect(() => {
    api.signInMethods().then(setMethods, () => setMethods({ password: true, sso: false }));
  }, []);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const r = await api.signIn({ email: String(data.get('email') ?? ''), password: String(data.get('password') ?? '') });
      if ('passkey' in r) {
        setStep(r.passkey);
        await passkey(r.passkey);
        return;
      }
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The gateway cannot be reached.');
    } finally {
      setBusy(false);
    }
  }

  /** The second step: the WebAuthn ceremony, then POST /v1/auth/login/passkey; on success as a password sign-in. */
  async function passkey(s: PasskeyStep) {
    setBusy(true);
    setError(null);
    try {
      const credential = await assertPasskey(s.options);
      await api.signInPasskey(s.pending_token, credential);
      onSignedIn();
    } catch (err) {
      // The pending step answers once: after a refusal by the gateway, the password is needed again.
      if (err instanceof ApiError) setStep(null);
      setError(passkeyFailure(err));
    } finally {
      setBusy(false);
    }
  }

  if (step) {
    return (
      <main className="sign-in">
        <h1>Confirm with your passkey</h1>
        <p>
          Your password was right. This account also needs its passkey: use your security key, phone or this device when your browser asks.
        </p>
        {error && (
          <p id="sign-in-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="button" className="primary" disabled={busy} onClick={() => void passkey(step)}>
          {busy ? 'Waiting for your passkey…' : 'Use my passkey'}
        </button>
        <button type="button" className="link" disabled={busy} onClick={() => setStep(null)}>
          Start again
        </button>
      </main>
    );
  }

  return (
    <main className="sign-in">
      <h1>Sign in to Countersign</h1>
      {returnTo !== '/inbox' && returnTo !== '/' && <p className="muted">You will be taken back to the page you opened.</p>}
      <form onSubmit={submit} aria-describedby={error ? 'sign-in-error' : undefined}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p id="sign-in-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {methods?.sso && (
        <a className="button" href={api.ssoUrl(returnTo)}>
          Sign in with SSO
        </a>
      )}
    </main>
  );
}
