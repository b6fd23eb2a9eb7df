import { A11Y_PEOPLE_ADMIN_PAGES } from './console-a11y-pages.js';
import { a11ySuite } from './console-a11y-suite.js';

// The administration pages for people, agents, keys, groups and grants, checked with axe-core (console-a11y-suite.ts).
a11ySuite('sqlite', 'accessibility of the people administration pages (axe-core)', A11Y_PEOPLE_ADMIN_PAGES);
