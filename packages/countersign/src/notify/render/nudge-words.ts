/**
 * Why a reminder or an escalation writes again (a Slack thread reply, a Teams reply under the card), with
 * the stage's deadline (ISO, from the action view): our own words only, no agent text.
 */
export function nudgeWords(reason: 'reminder' | 'escalated', level: number | null, deadline: string | null): string {
  const due = deadline === null ? '' : ` Deadline: ${deadline}.`;
  return reason === 'escalated'
    ? `Escalated${level === null ? '' : ` (level ${level})`}: more people are asked to decide.${due}`
    : `Reminder: this action is still waiting for a decision.${due}`;
}
