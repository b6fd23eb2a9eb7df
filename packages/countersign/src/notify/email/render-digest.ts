import { escapeHtml } from '../render/safe-text.js';
import type { SafeSummary } from '../render/summary.js';
import type { EmailMessage } from './transport.js';

/**
 * One digest email: what waits, one line per action (tool, agent, deadline, the console link), oldest
 * deadline first, with any flagged text said in words. Every agent-written string was revealed and cut in
 * `summarize`; the HTML part escapes it too. No decision links: a digest sends people to the console.
 */
export function renderDigest(to: string, items: readonly SafeSummary[], more: number, personal: boolean, inboxUrl: string): EmailMessage {
  const n = items.length;
  const subject = `[Countersign] ${n} action${n === 1 ? '' : 's'} ${personal ? `${n === 1 ? 'waits' : 'wait'} for you` : 'pending'}`;
  const lineOf = (s: SafeSummary) =>
    `${s.tool}, by ${s.agent}${s.onBehalfOf ? ` for ${s.onBehalfOf}` : ''}${s.deadline ? `, until ${s.deadline}` : ''}`;
  const why = personal
    ? 'You receive this digest because these wait on your review.'
    : 'This address receives the digest of this workflow.';
  const moreLine = more > 0 ? [`… and ${more} more pending in the console.`] : [];
  const text = [
    `${subject.replace('[Countersign] ', '')}:`,
    '',
    ...items.flatMap((s) => [
      `- ${lineOf(s)}`,
      ...(s.purpose ? [`  Purpose: ${s.purpose}`] : []),
      ...s.flagged.map((f) => `  Look closely: ${f}`),
      `  ${s.consoleUrl}`,
    ]),
    ...moreLine,
    '',
    `Your inbox: ${inboxUrl}`,
    '',
    why,
  ].join('\n');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif">
<p><strong>${escapeHtml(subject.replace('[Countersign] ', ''))}:</strong></p>
<ul>${items
    .map(
      (s) =>
        `<li><a href="${escapeHtml(s.consoleUrl)}">${escapeHtml(lineOf(s))}</a>${s.purpose ? `<br>Purpose: ${escapeHtml(s.purpose)}` : ''}${s.flagged
          .map((f) => `<br><strong>Look closely:</strong> ${escapeHtml(f)}`)
          .join('')}</li>`,
    )
    .join('')}</ul>
${more > 0 ? `<p>${escapeHtml(moreLine[0] ?? '')}</p>` : ''}
<p><a href="${escapeHtml(inboxUrl)}">Your inbox</a></p>
<p style="color:#666">${escapeHtml(why)}</p>
</body></html>`;
  return { to, subject, text, html };
}
