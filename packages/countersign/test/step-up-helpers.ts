import { createSession } from '../src/domain/identities/sessions/create-session.js';
import { csrfTokenFor } from '../src/domain/identities/sessions/csrf.js';
import type { World } from './helpers.js';
import { HOST, ORIGIN } from './session-helpers.js';

/** Production deploys go to a stage that needs step-up (5 min); other deploys to a plain one. */
export const STEP_UP_POLICY = `
policy:
  rules:
    - { name: prod-deploys, when: 'tool == "deploy" && arguments.env == "production"', effect: review, workflow: risky }
    - { name: other-deploys, when: 'tool == "deploy" && arguments.env != "production"', effect: review, workflow: plain }
workflows:
  risky:
    stages:
      - name: sign-off
        approvers: { roles: [reviewer] }
        step_up: { max_age: 5m }
  plain:
    stages:
      - approvers: { roles: [reviewer] }
`;

/**
 * A browser session of alice's that last authenticated strongly at `strongAt`, opened the way a passkey
 * sign-in opens one; returns the headers a same-origin page sends with it.
 */
export async function strongSession(w: World, strongAt: number): Promise<Record<string, string>> {
  const s = await w.gw.deps.committer.run((tx) =>
    createSession(tx, w.gw.deps.config, { userId: w.ids.alice, method: 'passkey', strongAt, userAgent: null, ip: '127.0.0.1' }),
  );
  const csrf = csrfTokenFor(s.token);
  return { cookie: `cs_session=${s.token}; cs_csrf=${csrf}`, 'x-csrf-token': csrf, origin: ORIGIN, host: HOST };
}
