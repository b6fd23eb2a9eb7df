import { A11Y_OVERSIGHT_PAGES } from './console-a11y-pages.js';
import { a11ySuite } from './console-a11y-suite.js';

// History, the dashboard and the audit log, checked with axe-core (console-a11y-suite.ts).
a11ySuite('postgres', 'accessibility of the oversight pages (axe-core)', A11Y_OVERSIGHT_PAGES);
