import { A11Y_POLICY_ACCOUNT_PAGES } from './console-a11y-pages.js';
import { a11ySuite } from './console-a11y-suite.js';

// The policy pages and the account page, checked with axe-core (console-a11y-suite.ts).
a11ySuite('sqlite', 'accessibility of the policy and account pages (axe-core)', A11Y_POLICY_ACCOUNT_PAGES);
