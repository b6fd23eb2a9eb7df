import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { propose, review, type World } from './helpers.js';

/**
 * The console pages the accessibility test (console-a11y.test.ts) loads, and the axe-core check it runs on
 * each, in four lists, one test file each (console-a11y*.test.ts), so no file nears the per-file time limit.
 * Every console page belongs in one of the lists: add new ones here.
 */

export interface A11yPage {
  name: string;
  /** Who is signed in (an email with a password, see console-a11y.test.ts), or null for signed out. */
  as: string | null;
  /** The path to open, after making what the page needs (an action, a decision…). */
  path(w: World): Promise<string>;
  /** Resolves once the page has drawn what is to be checked. */
  ready(page: Page): Promise<void>;
}

/** The pages a reviewer decides in: signing in, the inbox, actions pending and decided. */
export const A11Y_REVIEW_PAGES: A11yPage[] = [
  {
    name: 'sign-in',
    as: null,
    path: async () => '/sign-in?return_to=%2Finbox',
    ready: (page) => page.getByRole('button', { name: 'Sign in' }).waitFor(),
  },
  {
    name: 'inbox with items',
    as: 'alice@example.com',
    path: async (w) => {
      await propose(w, { tool: 'deploy', arguments: { env: 'production' }, purpose: 'ship 1.4.2' });
      await propose(w, { tool: 'rotate-keys', arguments: { service: 'billing' } }, w.keys.otherAgent);
      return '/inbox';
    },
    ready: (page) => page.locator('.inbox-item').first().waitFor(),
  },
  {
    name: 'action, pending',
    as: 'alice@example.com',
    path: async (w) => `/actions/${(await propose(w, { tool: 'deploy', arguments: { env: 'staging', n: 1 } })).body.id}`,
    ready: (page) => page.getByRole('button', { name: /^Approve/ }).waitFor(),
  },
  {
    name: 'action, decided',
    as: 'alice@example.com',
    path: async (w) => {
      const a = await propose(w, { tool: 'deploy', arguments: { env: 'staging', n: 2 } });
      await review(w, a.body.id, w.keys.carol, { decision: 'deny', reason: 'not this week' });
      return `/actions/${a.body.id}`;
    },
    ready: (page) => page.getByText('not this week').first().waitFor(),
  },
];

/** The pages that oversee: history, the dashboard, the audit log. */
export const A11Y_OVERSIGHT_PAGES: A11yPage[] = [
  {
    name: 'history',
    as: 'alice@example.com',
    path: async (w) => {
      await propose(w, { tool: 'deploy', arguments: { env: 'staging', n: 3 }, purpose: 'history entry' });
      return '/history';
    },
    ready: (page) => page.getByTestId('history-item').first().waitFor(),
  },
  {
    name: 'dashboard',
    as: 'alice@example.com',
    path: async () => '/dashboard',
    ready: (page) => page.getByTestId('reviewers').or(page.locator('.tile-value')).first().waitFor(),
  },
  {
    name: 'audit',
    as: 'ada@example.com',
    path: async () => '/audit',
    ready: (page) => page.getByTestId('chain-length').waitFor(),
  },
];

/** The policy pages and the account page. */
export const A11Y_POLICY_ACCOUNT_PAGES: A11yPage[] = [
  {
    name: 'policy',
    as: 'ada@example.com',
    path: async () => '/admin/policy',
    ready: (page) => page.getByRole('heading', { name: /^Active policy: version/ }).waitFor(),
  },
  {
    name: 'policy playground',
    as: 'ada@example.com',
    path: async () => '/admin/policy/playground',
    ready: (page) => page.getByRole('button', { name: 'Evaluate' }).waitFor(),
  },
  {
    name: 'account',
    as: 'alice@example.com',
    path: async () => '/account',
    ready: (page) => page.getByText('This session').first().waitFor(),
  },
];

/** The administration pages for people, agents, keys, groups and grants. */
export const A11Y_PEOPLE_ADMIN_PAGES: A11yPage[] = [
  ...(['people', 'agents', 'keys'] as const).map(
    (section): A11yPage => ({
      name: `admin ${section}`,
      as: 'ada@example.com',
      path: async () => `/admin/${section}`,
      ready: (page) => page.locator('.people-list').first().waitFor(),
    }),
  ),
  {
    name: 'admin groups',
    as: 'ada@example.com',
    path: async () => '/admin/groups',
    ready: (page) => page.locator('.people-list').or(page.getByText('No groups yet.')).first().waitFor(),
  },
  {
    name: 'admin grants',
    as: 'ada@example.com',
    path: async () => '/admin/grants',
    ready: (page) =>
      page
        .locator('.people-list')
        .or(page.getByText(/^No grant/))
        .first()
        .waitFor(),
  },
];

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page and returns its serious and critical violations. axe is evaluated through the
 * DevTools protocol (page.evaluate), which the page's Content-Security-Policy does not govern, so the real
 * CSP (script-src 'self') stays in force for the page itself: no script tag is added and nothing is relaxed.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate('typeof window.axe');
  if (loaded !== 'object') await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))`,
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Violations as lines a person can act on. */
export function describeViolations(where: string, vs: AxeViolation[]): string {
  return vs
    .map(
      (v) =>
        `${where}: [${v.impact}] ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`,
    )
    .join('\n');
}
