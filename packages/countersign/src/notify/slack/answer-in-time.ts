import type { Deps } from '../../deps.js';
import type { InteractionAnswer } from './interactions.js';

/** Slack gives an interaction three seconds; past this the answer is empty and the handler finishes on its own. */
export const ANSWER_WITHIN_MS = 2_500;

/**
 * The handler's answer if it has one in time, else an empty one (Slack shows an error after 3 s, and a
 * vote or a message already on its way still lands). A handler that fails is logged, never thrown at Slack.
 */
export function answerInTime(deps: Deps, work: Promise<InteractionAnswer>): Promise<InteractionAnswer> {
  const logged = work.catch((err: unknown) => {
    deps.logger.warn({ err }, 'a Slack interaction failed');
    return null;
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ANSWER_WITHIN_MS);
    void logged.then((answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}
