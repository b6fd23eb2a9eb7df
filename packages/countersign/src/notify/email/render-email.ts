import { escapeHtml, safeText } from '../render/safe-text.js';
import type { SafeSummary } from '../render/summary.js';
import type { EmailMessage } from './transport.js';

export interface DecisionLinks {
  approve: string | null;
  deny: string | null;
  /** Why there are no buttons (a step-up stage): said in words instead. */
  note: string | null;
}

export type EmailKind = 'asked' | 'reminder' | 'escalated' | 'decided';

/**
 * One email, an HTML part and a text part that say the same thing: every agent-written string was revealed
 * and cut in `summarize`; here the HTML part escapes it too. No remote images, no scripts, no styles that
 * fetch anything; the only links are the console page and, when configured, the two decision pages.
 */
export function renderEmail(to: string, kind: EmailKind, s: SafeSummary, links: DecisionLinks | null, personal: boolean): EmailMessage {
  const headline = HEADLINES[kind];
  const why = personal
    ? 'You receive this because you were asked to review it.'
    : 'This address receives the notifications of this workflow.';
  // The subject is a header: one line, revealed (the summary did that), nothing more to escape.
  const subject = `[Countersign] ${headline}: ${safeText(s.tool, 80)}`;
  const rows: [string, string][] = [
    ['Tool', s.tool],
    ['Agent', s.agent],
    ...(s.onBehalfOf ? ([['On behalf of', s.onBehalfOf]] as [string, string][]) : []),
    ...(s.purpose ? ([['Purpose', s.purpose]] as [string, string][]) : []),
    ...(s.deadline ? ([['Deadline', s.deadline]] as [string, string][]) : []),
    ...(s.progress ? ([['Progress', s.progress]] as [string, string][]) : []),
    ...(s.outcome ? ([['Outcome', s.outcome]] as [string, string][]) : []),
  ];
  const args = [...s.arguments, ...(s.moreArguments > 0 ? [`… and ${s.moreArguments} more arguments`] : [])];

  const text = [
    `${headline}.`,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    '',
    'Arguments:',
    ...args.map((a) => `  ${a}`),
    '',
    ...(s.flagged.length > 0 ? ["Look closely, the agent's text has:", ...s.flagged.map((f) => `  ${f}`), ''] : []),
    `Open in the console: ${s.consoleUrl}`,
    ...(links?.approve ? [`Approve (asks you to confirm): ${links.approve}`] : []),
    ...(links?.deny ? [`Deny (asks you to confirm): ${links.deny}`] : []),
    ...(links?.note ? [links.note] : []),
    '',
    `Action ${s.actionId}. ${why}`,
  ].join('\n');

  const cell = 'padding:4px 12px 4px 0;vertical-align:top';
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif">
<p><strong>${escapeHtml(headline)}.</strong></p>
<table>${rows.map(([k, v]) => `<tr><th style="${cell};text-align:left">${escapeHtml(k)}</th><td style="${cell}">${escapeHtml(v)}</td></tr>`).join('')}</table>
<p>Arguments:</p>
<pre style="white-space:pre-wrap">${args.map(escapeHtml).join('\n')}</pre>
${s.flagged.length > 0 ? `<p><strong>Look closely, the agent's text has:</strong></p><ul>${s.flagged.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : ''}
<p><a href="${escapeHtml(s.consoleUrl)}">Open in the console</a></p>
${links?.approve ? `<p><a href="${escapeHtml(links.approve)}">Approve</a> (asks you to confirm)</p>` : ''}
${links?.deny ? `<p><a href="${escapeHtml(links.deny)}">Deny</a> (asks you to confirm)</p>` : ''}
${links?.note ? `<p>${escapeHtml(links.note)}</p>` : ''}
<p style="color:#666">Action ${escapeHtml(s.actionId)}. ${escapeHtml(why)}</p>
</body></html>`;
  return { to, subject, text, html };
}

const HEADLINES: Record<EmailKind, string> = {
  asked: 'Your approval is requested',
  reminder: 'Reminder: your approval is still requested',
  escalated: 'Escalated: your approval is requested',
  decided: 'Review finished',
};
