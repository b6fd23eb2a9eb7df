import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { CsError, isCsError } from '../../lib/errors.js';
import { decideByLink, inspectLink, type LinkState } from '../../notify/email/decide-by-link.js';
import { DECISION_PAGE_PATH } from '../../notify/email/links.js';
import { escapeHtml, safeText } from '../../notify/render/safe-text.js';
import { consoleUrlOf, summarize } from '../../notify/render/summary.js';
import { checkSameOrigin } from '../csrf.js';
import { httpStatus } from '../errors.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';
import { SLACK_INTERACTIONS_PATH } from './slack.js';

/**
 * The two steps of an email decision link. GET (what a person's click, and any mail scanner, fetches)
 * shows what the link would do and decides nothing; only the POST of that page's form decides, as the
 * person the link was made for. The pages carry no script at all: the CSP forbids every script and every
 * fetch, and the form may post only to this origin.
 */
const CSP = ["default-src 'none'", "style-src 'unsafe-inline'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"].join(
  '; ',
);

const Query = z.strictObject({ token: z.string().max(128) });
const Form = z.strictObject({ token: z.string().max(128), reason: z.string().max(65536).optional() });
const MAX_FORM_BYTES = 70_000;

function send(reply: FastifyReply, status: number, title: string, body: string): string {
  reply.status(status);
  reply.header('content-type', 'text/html; charset=utf-8');
  reply.header('content-security-policy', CSP);
  reply.header('cache-control', 'no-store');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · Countersign</title>
<style>body{font:16px system-ui;max-width:36rem;margin:3rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem;vertical-align:top}textarea,button{display:block;width:100%;margin:.5rem 0}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function confirmPage(state: Extract<LinkState, { ok: true }>, token: string, publicUrl: string): string {
  const s = summarize(state.action, consoleUrlOf(publicUrl, state.action.id));
  const rows: [string, string | null][] = [
    ['Tool', s.tool],
    ['Agent', s.agent],
    ['On behalf of', s.onBehalfOf],
    ['Purpose', s.purpose],
    ['Deadline', s.deadline],
    ['Progress', s.progress],
    ['Status', s.status],
  ];
  const table = `<table>${rows
    .filter((r): r is [string, string] => r[1] !== null)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('')}</table><p>Arguments:</p><pre style="white-space:pre-wrap">${s.arguments.map(escapeHtml).join('\n')}${
    s.moreArguments > 0 ? `\n… and ${s.moreArguments} more` : ''
  }</pre>`;
  const open = `<p><a href="${escapeHtml(s.consoleUrl)}">Open in the console</a></p>`;
  const who = `<p>Signed by this link as ${escapeHtml(safeText(state.person, 320))}.</p>`;
  if (state.stepUp) {
    return `${table}<p>This stage needs a recent strong sign-in to approve, which an email link can never give. Open the action in the console to decide.</p>${open}`;
  }
  if (state.whyNot !== null) return `${table}<p>You cannot ${state.decision} this action: ${escapeHtml(state.whyNot)}.</p>${open}`;
  const reason =
    state.decision === 'deny'
      ? '<label>Reason for denying (the agent sees it)<textarea name="reason" rows="3" maxlength="4096"></textarea></label>'
      : '';
  return `${table}${who}<form method="post" action="${DECISION_PAGE_PATH}"><input type="hidden" name="token" value="${escapeHtml(token)}">${reason}<button>${
    state.decision === 'approve' ? 'Approve this action' : 'Deny this action'
  }</button></form>${open}`;
}

/** The form body of the confirmation page, parsed only on its own path; every other route stays JSON-only. */
export function installDecisionFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (request, body, done) => {
    const path = request.url.split('?')[0];
    // Slack's interactions are signed over the exact bytes: that route gets the raw body and checks it first.
    if (path === SLACK_INTERACTIONS_PATH) return done(null, body);
    if (path !== DECISION_PAGE_PATH) {
      return done(new CsError('unsupported_media_type', 'this route accepts JSON only'));
    }
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}

export const emailDecisionRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: DECISION_PAGE_PATH,
    operationId: 'emailDecisionPage',
    summary: 'The confirmation page an email decision link opens (decides nothing; its form posts the decision)',
    tags: ['notifications'],
    auth: 'none',
    query: Query,
    responses: {
      200: { description: 'An HTML page', contentType: 'text/html' },
      400: { description: 'Invalid request' },
      410: { description: 'The link is not valid, used or expired (an HTML page saying which)', contentType: 'text/html' },
    },
    handler: async ({ deps, query, reply }) => {
      const state = await inspectLink(deps, query.token);
      if (!state.ok) return send(reply, 410, 'This link cannot be used', `<p>${escapeHtml(state.why)}</p>`);
      const title = state.decision === 'approve' ? 'Approve this action?' : 'Deny this action?';
      return send(reply, 200, title, confirmPage(state, query.token, deps.config.server.publicUrl ?? ''));
    },
  }),
  defineRoute({
    method: 'POST',
    url: DECISION_PAGE_PATH,
    operationId: 'emailDecide',
    summary: "Decides with an email decision link: the confirmation page's form (token, and for a deny a reason); once",
    tags: ['notifications'],
    auth: 'none',
    body: Form,
    responses: {
      200: { description: 'An HTML page: the decision was recorded', contentType: 'text/html' },
      400: { description: 'Invalid request' },
      403: { description: 'Not valid, expired, or the person may not decide', contentType: 'text/html' },
      409: { description: 'Used already, or the action was decided already', contentType: 'text/html' },
    },
    handler: async ({ deps, body, request, reply }) => {
      checkSameOrigin(deps, request);
      const parsed = Form.safeParse(body);
      if (!parsed.success) throw new CsError('invalid_request', 'the form needs a token (and at most a reason)');
      try {
        const view = await decideByLink(deps, parsed.data.token, parsed.data.reason || undefined);
        const outcome = view.status === 'pending' ? 'Your approval was recorded; the review goes on.' : `The action is ${view.status}.`;
        return send(reply, 200, 'Decision recorded', `<p>${escapeHtml(outcome)}</p>`);
      } catch (e) {
        if (!isCsError(e)) throw e;
        return send(reply, httpStatus(e.code), 'Nothing was decided', `<p>${escapeHtml(e.message)}</p>`);
      }
    },
  }),
];
