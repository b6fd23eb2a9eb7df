import { type ComponentType, lazy, type ReactNode, Suspense } from 'react';
import type { Me } from '../api/types.js';
import { Link, type Route } from '../router.js';
import { ActionPage } from './ActionPage.js';
import { Inbox } from './Inbox.js';

/*
 * The reviewing pages (inbox, action) are in the first load: they are what a notification or a review link
 * opens. Everything else is a chunk of its own, fetched from this origin the first time it is opened, so
 * the first load stays small however many oversight and administration screens there are.
 */
// biome-ignore lint/suspicious/noExplicitAny: React.lazy's own signature; each page's props are checked where it is used
const named = <K extends string, C extends ComponentType<any>>(load: () => Promise<Record<K, C>>, name: K) =>
  lazy(async () => ({ default: (await load())[name] }));
const History = named(() => import('./oversight/History.js'), 'History');
const Dashboard = lazy(() => import('./oversight/Dashboard.js'));
const Audit = named(() => import('./oversight/Audit.js'), 'Audit');
const PolicyPage = named(() => import('./policy/PolicyPage.js'), 'PolicyPage');
const Playground = named(() => import('./policy/Playground.js'), 'Playground');
const Account = named(() => import('./people/Account.js'), 'Account');
const LinkChat = named(() => import('./people/LinkChat.js'), 'LinkChat');
const AdminSection = named(() => import('./people/AdminSection.js'), 'AdminSection');

function assertNever(x: never): never {
  throw new Error(`unhandled route ${JSON.stringify(x)}`);
}

export interface PageProps {
  route: Exclude<Route, { name: 'sign-in' }>;
  me: Me;
  onCount: (n: number) => void;
  onSignedOut: () => void;
}

function page({ route, me, onCount, onSignedOut }: PageProps): ReactNode {
  switch (route.name) {
    case 'inbox':
      return <Inbox filter={route.filter} onCount={onCount} actingFor={me.acting_for ?? []} />;
    case 'action':
      return <ActionPage id={route.id} />;
    case 'history':
      return <History search={route.search} />;
    case 'dashboard':
      return <Dashboard search={route.search} />;
    case 'audit':
      return <Audit isAdmin={me.role === 'admin'} />;
    case 'policy':
      return <PolicyPage />;
    case 'policy-playground':
      return <Playground />;
    case 'account':
      return <Account me={me} onSignedOut={onSignedOut} />;
    case 'link-chat':
      return <LinkChat me={me} />;
    case 'admin':
      return <AdminSection section={route.section} me={me} />;
    case 'not-found':
      return (
        <main>
          <h1>Not found</h1>
          <p>
            There is no page at <code>{route.path}</code>. <Link to="/inbox">Go to the inbox</Link>.
          </p>
        </main>
      );
    default:
      return assertNever(route);
  }
}

/** The page a route names, its chunk loaded on first use. */
export function Page(props: PageProps): ReactNode {
  return <Suspense fallback={<main aria-busy="true">Loading…</main>}>{page(props)}</Suspense>;
}
