/** A minute of the fake clock. */
export const MIN = 60_000;

/**
 * A policy whose one stage asks `first`, escalates after 30 minutes to `escalated` too, then reminds every
 * 30 minutes (twice); reviews expire after 6 hours. The approvers are written as in a config file.
 */
export function remindingPolicy(first: string, escalated: string): string {
  return `
policy:
  default: review
workflows:
  default:
    expires_after: 6h
    stages:
      - approvers: ${first}
        escalation:
          levels:
            - { after: 30m, approvers: ${escalated} }
          repeat: 2
`;
}
