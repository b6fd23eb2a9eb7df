import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, api } from './api/client.js';
import type { Me } from './api/types.js';
import { LiveContext, LiveHub, useLive } from './live.js';
import { needYouText } from './pages/Inbox.js';
import { Page } from './pages/Page.js';
import { SignIn } from './pages/SignIn.js';
import { Link, navigate, parseRoute, useLocation } from './router.js';

type Session = { state: 'loading' } | { state: 'signed-out' } | { state: 'signed-in'; me: Me } | { state: 'error'; message: string };

/** The live count in the header: how many actions wait for me, on every page. */
function NeedYou({ count, setCount }: { count: number | null; setCount: (n: number) => void }): ReactNode {
  const refresh = useCallback(() => {
    api.needYou().then(
      (n) => setCount(n),
      () => undefined,
    );
  }, [setCount]);
  useEffect(refresh, [refresh]);
  useLive(refresh);
  return (
    // The name starts with what is visible ("Inbox 3"), so speech and voice control match the screen (WCAG 2.5.3).
    <Link
      to="/inbox"
      className={count ? 'need-you active' : 'need-you'}
      aria-label={count === null ? 'Inbox' : `Inbox ${count}: ${needYouText(count).toLowerCase()}`}
    >
      <span aria-hidden="true">Inbox</span>{' '}
      {count !== null && (
        <span className="count" data-testid="live-count" aria-hidden="true">
          {count}
        </span>
      )}
    </Link>
  );
}

export function App(): ReactNode {
  const location = useLocation();
  const route = useMemo(() => {
    const at = location.indexOf('?');
    return parseRoute(at < 0 ? location : location.slice(0, at), at < 0 ? '' : location.slice(at));
  }, [location]);
  const [session, setSession] = useState<Session>({ state: 'loading' });
  const [count, setCount] = useState<number | null>(null);
  const hub = useMemo(() => new LiveHub(), []);

  const check = useCallback(() => {
    api.me().then(
      (me) =>
        setSession(
          me.type === 'user' ? { state: 'signed-in', me } : { state: 'error', message: 'This console is for people, not agents.' },
        ),
      (e: unknown) =>
        setSession(
          e instanceof ApiError && e.status === 401
            ? { state: 'signed-out' }
            : { state: 'error', message: 'The gateway cannot be reached.' },
        ),
    );
  }, []);
  useEffect(check, [check]);

  useEffect(() => {
    if (session.state !== 'signed-in') return;
    hub.start();
    return () => hub.stop();
  }, [session.state, hub]);

  // Signed out anywhere but the sign-in page: sign in, then come back here (deep links survive sign-in).
  useEffect(() => {
    if (session.state === 'signed-out' && route.name !== 'sign-in') {
      navigate(`/sign-in?return_to=${encodeURIComponent(location)}`, { replace: true });
    }
    if (session.state === 'signed-in' && route.name === 'sign-in') navigate(route.returnTo, { replace: true });
  }, [session.state, route, location]);

  async function signOut() {
    try {
      await api.signOut();
    } finally {
      setCount(null);
      setSession({ state: 'signed-out' });
    }
  }

  /** The session ended under this page (revoked from the Account page): back to signing in. */
  const signedOut = () => {
    setCount(null);
    setSession({ state: 'signed-out' });
  };

  if (session.state === 'loading') return <main aria-busy="true">Loading…</main>;
  if (session.state === 'error') {
    return (
      <main>
        <p className="error" role="alert">
          {session.message}
        </p>
      </main>
    );
  }
  if (session.state === 'signed-out' || route.name === 'sign-in') {
    return route.name === 'sign-in' ? <SignIn returnTo={route.returnTo} onSignedIn={check} /> : <main aria-busy="true">Loading…</main>;
  }
  const me = session.me;
  return (
    <LiveContext.Provider value={hub}>
      <header className="top">
        <Link to="/inbox" className="brand">
          Countersign
        </Link>
        <NeedYou count={count} setCount={setCount} />
        <nav className="main-nav" aria-label="Main">
          <Link to="/history">History</Link>
          <Link to="/dashboard">Dashboard</Link>
          <Link to="/audit">Audit</Link>
          {me.role === 'admin' && <Link to="/admin/policy">Policy</Link>}
          {me.role === 'admin' && <Link to="/admin/people">Administration</Link>}
          <Link to="/account">Account</Link>
        </nav>
        <span className="me" title={`${me.email ?? me.name} (${me.role ?? ''})`}>
          {me.email ?? me.name}
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <Page route={route} me={me} onCount={setCount} onSignedOut={signedOut} />
    </LiveContext.Provider>
  );
}
