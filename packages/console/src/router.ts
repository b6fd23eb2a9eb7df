import { createElement, type MouseEvent, type ReactNode, useSyncExternalStore } from 'react';

/** The administration screens under /admin/ (admins only). */
export type AdminSection = 'people' | 'groups' | 'agents' | 'keys' | 'grants';

/** The console's pages. A tiny router over the History API: a dozen exact paths need no dependency. */
export type Route =
  | { name: 'inbox'; filter: { agent?: string; tool?: string; workflow?: string; older_than?: string } }
  | { name: 'action'; id: string }
  | { name: 'sign-in'; returnTo: string }
  | { name: 'policy' }
  | { name: 'policy-playground' }
  | { name: 'account' }
  | { name: 'link-chat' }
  | { name: 'admin'; section: AdminSection }
  | { name: 'history'; search: string }
  | { name: 'dashboard'; search: string }
  | { name: 'audit' }
  | { name: 'not-found'; path: string };

const CHANGE = 'cs:navigate';

/**
 * Where to go after signing in: a path on this origin only, checked as the gateway checks `return_to`
 * (src/lib/return-to.ts), so a crafted link cannot send a reviewer to another site.
 */
export function safeReturnTo(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '/inbox';
  const ok =
    value.length <= 2048 &&
    value.startsWith('/') &&
    !value.startsWith('//') &&
    !value.startsWith('/\\') &&
    ![...value].some((ch) => ch === '\\' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  return ok ? value : '/inbox';
}

export function parseRoute(pathname: string, search: string): Route {
  const q = new URLSearchParams(search);
  if (pathname === '/' || pathname === '/inbox') {
    const filter: { agent?: string; tool?: string; workflow?: string; older_than?: string } = {};
    for (const k of ['agent', 'tool', 'workflow', 'older_than'] as const) {
      const v = q.get(k);
      if (v) filter[k] = v;
    }
    return { name: 'inbox', filter };
  }
  if (pathname === '/admin/policy') return { name: 'policy' };
  if (pathname === '/admin/policy/playground') return { name: 'policy-playground' };
  if (pathname === '/history') return { name: 'history', search };
  if (pathname === '/dashboard') return { name: 'dashboard', search };
  if (pathname === '/audit') return { name: 'audit' };
  if (pathname === '/sign-in') return { name: 'sign-in', returnTo: safeReturnTo(q.get('return_to')) };
  if (pathname === '/account') return { name: 'account' };
  if (pathname === '/link-chat') return { name: 'link-chat' };
  const adminPage = /^\/admin\/(people|groups|agents|keys|grants)$/.exec(pathname);
  if (adminPage?.[1]) return { name: 'admin', section: adminPage[1] as AdminSection };
  const action = /^\/actions\/([^/]+)$/.exec(pathname);
  if (action?.[1]) return { name: 'action', id: decodeURIComponent(action[1]) };
  return { name: 'not-found', path: pathname };
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

const snapshot = () => location.pathname + location.search;

/** The current path and query; re-renders on navigation (links, back/forward). */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, snapshot);
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
  window.scrollTo(0, 0);
}

/** An <a> that navigates in place (a modified click still opens a new tab, as links do). */
export function Link(props: { to: string; className?: string; children: ReactNode; 'aria-label'?: string }): ReactNode {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return createElement('a', { href: props.to, onClick, className: props.className, 'aria-label': props['aria-label'] }, props.children);
}
