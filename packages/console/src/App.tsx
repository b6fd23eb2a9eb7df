import { lazy, type ReactNode, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, api } from './api/client.js';
import type { Me } from './api/types.js';
import { LiveContext, LiveHub, useLive } from './live.js';
import { ActionPage } from './pages/ActionPage.js';
import { Inbox, needYouText } from './pages/Inbox.js';
import { Audit } from './pages/oversight/Audit.js';
import { History } from './pages/oversight/History.js';
import { Account } from './pages/people/Account.js';
import { AdminAgents } from './pages/people/AdminAgents.js';
import { AdminGrants } from './pages/people/AdminGrants.js';
import { AdminGroups } from './pages/people/AdminGroups.js';
import { AdminKeys } from './pages/people/AdminKeys.js';
import { AdminPeople } from './pages/people/AdminPeople.js';
import { AdminOnly } from './pages/people/parts.js';
import { Playground } from './pages/policy/Playground.js';
import { PolicyPage } from './pages/policy/PolicyPage.js';
import { SignIn } from './pages/SignIn.js';
import { Link, navigate, parseRoute, useLocation } from './router.js';

/** The dashboard's charts load on demand, so the first load (inbox, action page) carries none of them. */
const Dashboard = lazy(() => import('./pages/oversight/Dashboard.js'));

type Session = { state: 'loading' } | { state: 'signed-out' } | { state: 'signed-in'; me: Me } | { state: 'error'; message: string };

/** The live count in the header: how many actions wait for me, on every page. */
function NeedYou({ count, setCount }: { count: number | null; setCount: (n: number) => void }): ReactNode {
  const refresh = useCallback(() => {
    api.inbox({}).then(
      (d) => setCount(d.need_you),
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
          {me.role === 'admin' && <Link to="/admin/policy">Policy</Link>}
          <Link to="/account">Account</Link>
          {me.role === 'admin' && <Link to="/admin/people">Administration</Link>}
          <Link to="/history">History</Link>
          <Link to="/dashboard">Dashboard</Link>
          <Link to="/audit">Audit</Link>
        </nav>
        <span className="me" title={`${me.email ?? me.name} (${me.role ?? ''})`}>
          {me.email ?? me.name}
        </span>
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {route.name === 'inbox' && <Inbox filter={route.filter} onCount={setCount} actingFor={me.acting_for ?? []} />}
      {route.name === 'action' && <ActionPage id={route.id} />}
      {route.name === 'policy' && <PolicyPage />}
      {route.name === 'policy-playground' && <Playground />}
      {route.name === 'account' && <Account me={me} onSignedOut={signedOut} />}
      {route.name === 'admin' && me.role !== 'admin' && <AdminOnly />}
      {route.name === 'admin' && me.role === 'admin' && route.section === 'people' && <AdminPeople myId={me.id} />}
      {route.name === 'admin' && me.role === 'admin' && route.section === 'groups' && <AdminGroups />}
      {route.name === 'admin' && me.role === 'admin' && route.section === 'agents' && <AdminAgents />}
      {route.name === 'admin' && me.role === 'admin' && route.section === 'keys' && <AdminKeys />}
      {route.name === 'admin' && me.role === 'admin' && route.section === 'grants' && <AdminGrants />}
      {route.name === 'history' && <History search={route.search} />}
      {route.name === 'dashboard' && (
        <Suspense fallback={<main aria-busy="true">Loading…</main>}>
          <Dashboard search={route.search} />
        </Suspense>
      )}
      {route.name === 'audit' && <Audit isAdmin={me.role === 'admin'} />}
      {route.name === 'not-found' && (
        <main>
          <h1>Not found</h1>
          <p>
            There is no page at <code>{route.path}</code>. <Link to="/inbox">Go to the inbox</Link>.
          </p>
        </main>
      )}
    </LiveContext.Provider>
  );
}
