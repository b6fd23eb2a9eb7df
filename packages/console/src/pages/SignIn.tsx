import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiError, api } from '../api/client.js';
import type { SignInMethods } from '../api/types.js';

/** Email and password (POST /v1/auth/login), and single sign-on when the gateway has it; then back to `returnTo`. */
export function SignIn({ returnTo, onSignedIn }: { returnTo: string; onSignedIn: () => void }): ReactNode {
  const [methods, setMethods] = useState<SignInMethods | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.signInMethods().then(setMethods, () => setMethods({ password: true, sso: false }));
  }, []);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await api.signIn({ email: String(data.get('email') ?? ''), password: String(data.get('password') ?? '') });
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The gateway cannot be reached.');
    } finally {
      setBusy(false);
    }
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
