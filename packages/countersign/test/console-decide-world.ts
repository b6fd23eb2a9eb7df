import { FakeClock } from '../src/lib/clock.js';
import { type Dialect, type World, withPolicy, world } from './helpers.js';
import { fastPasswords, withPassword } from './session-helpers.js';

/**
 * The gateway the batch, keyboard and filter browser tests drive: listening, alice able to sign in, a
 * workflow per kind of action (so the inbox can be filtered by workflow, and one stage needs a step-up), and
 * a clock the test moves (so "older than" has something to find). The clock starts now: the session
 * cookies it sets must not be expired for the browser.
 */
export const DECIDE_POLICY = `
policy:
  default: review
  rules:
    - { name: prod, when: 'tool == "deploy-prod"', effect: review, workflow: sign-off }
    - { name: db, when: 'tool == "migrate"', effect: review, workflow: dba }
workflows:
  default:
    expires_after: 1d
    stages: [ { approvers: { roles: [reviewer] } } ]
  dba:
    expires_after: 1d
    stages: [ { approvers: { roles: [reviewer] } } ]
  sign-off:
    expires_after: 1d
    stages: [ { name: sign-off, approvers: { roles: [reviewer] }, step_up: { max_age: 5m } } ]
`;

export async function decideWorld(dialect: Dialect): Promise<{ w: World; clock: FakeClock }> {
  const clock = new FakeClock(Date.now());
  const w = await world(dialect, { listen: true, clock, config: (c) => withPolicy(DECIDE_POLICY)(fastPasswords(c)) });
  await withPassword(w, 'alice@example.com');
  return { w, clock };
}
