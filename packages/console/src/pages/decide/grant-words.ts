/** "Approve and allow similar": the grant a reviewer is about to create, in words, before they confirm it. */

export interface GrantChoice {
  tool: string;
  agent: string;
  /** Set when the grant covers only this session. */
  session: string | null;
  /** The argument values a similar action must have (empty: any arguments). */
  constraints: Record<string, unknown>;
  maxUses: number | null;
  expiresInMs: number;
}

/** "14:30 today", "09:00 tomorrow", "14:30 on 9 Dec" (local time). */
export function untilWords(at: Date, now: Date): string {
  const hm = at.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  const dayStart = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((dayStart(at) - dayStart(now)) / 86_400_000);
  if (days === 0) return `${hm} today`;
  if (days === 1) return `${hm} tomorrow`;
  const sameYear = at.getFullYear() === now.getFullYear();
  return `${hm} on ${at.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) })}`;
}

/** A value as it is shown in the sentence: strings quoted, the rest as JSON, long ones cut. */
export function shortJson(v: unknown, limit = 60): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length <= limit ? s : `${s.slice(0, limit - 1)}…`;
}

/** The sentence for one grant: what, by whom, how often, until when. */
export function grantWords(g: GrantChoice, now: Date): string {
  const keys = Object.keys(g.constraints);
  const args =
    keys.length === 0
      ? 'with any arguments'
      : `with ${keys.map((k) => `${k} = ${shortJson(g.constraints[k])}`).join(', ')} (other arguments free)`;
  const where = g.session === null ? '' : ` in session ${g.session}`;
  const times = g.maxUses === null ? 'any number of times' : g.maxUses === 1 ? 'once' : `up to ${g.maxUses} times`;
  return `${g.tool} ${args}, by agent ${g.agent}${where}, ${times}, until ${untilWords(new Date(now.getTime() + g.expiresInMs), now)}, without asking anyone again`;
}
