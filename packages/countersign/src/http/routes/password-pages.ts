import { createHash } from 'node:crypto';
import { defineRoute, type RouteSpec } from '../route-spec.js';

/**
 * The two pages a one-time link opens (first-run setup, password reset), until the reviewer console
 * takes them over. Plain HTML with one script: it reads the token from the fragment (never sent to a
 * server) and posts it with the new password to the JSON API, which sets the session cookie (for a person
 * with a passkey, after the passkey step: the link replaces the password, not the second factor). The CSP
 * allows exactly that script (by hash) and requests to this origin.
 */
const SCRIPT = `
const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const txt = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/[+]/g, '-').replace(/[/]/g, '_').replace(/=+$/, '');
async function passkey(o) {
  const allowCredentials = (o.allowCredentials || []).map((c) => ({ ...c, id: b64(c.id) }));
  const c = await navigator.credentials.get({ publicKey: { ...o, challenge: b64(o.challenge), allowCredentials } });
  const r = c.response;
  const response = { clientDataJSON: txt(r.clientDataJSON), authenticatorData: txt(r.authenticatorData), signature: txt(r.signature) };
  if (r.userHandle) response.userHandle = txt(r.userHandle);
  return { id: c.id, rawId: txt(c.rawId), type: c.type, response, clientExtensionResults: c.getClientExtensionResults() };
}
const form = document.querySelector('form');
const out = document.querySelector('output');
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
history.replaceState(null, '', location.pathname);
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { token };
  for (const el of form.querySelectorAll('input')) if (el.value) body[el.name] = el.value;
  let res = await fetch(form.dataset.api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let json = await res.json().catch(() => ({}));
  if (res.status === 202 && json.passkey_required) {
    out.textContent = 'Password set. Now confirm with your passkey.';
    const credential = await passkey(json.options).catch(() => null);
    if (!credential) return void (out.textContent = 'Password set, but the passkey step was cancelled: sign in with the new password and your passkey.');
    res = await fetch('/v1/auth/login/passkey', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pending_token: json.pending_token, credential }) });
    json = await res.json().catch(() => ({}));
  }
  out.textContent = res.ok ? 'Done: you are signed in as ' + json.email + '.' : (json.error && json.error.message) || 'failed: ' + res.status;
  if (res.ok) form.remove();
});`;
const CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`,
  "connect-src 'self'",
  "style-src 'unsafe-inline'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function page(title: string, api: string, fields: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>${title} · Countersign</title>
<style>body{font:16px system-ui;max-width:28rem;margin:4rem auto;padding:0 1rem}label,input,button{display:block;width:100%;margin:.4rem 0}</style>
</head><body><h1>${title}</h1><form data-api="${api}">${fields}<button>Continue</button></form><output></output>
<script>${SCRIPT}</script></body></html>`;
}

const PASSWORD = '<label>New password<input name="password" type="password" autocomplete="new-password" required></label>';
const SETUP = page(
  'Create the first admin',
  '/v1/auth/setup',
  `<label>Email<input name="email" type="email" autocomplete="username" required></label><label>Name<input name="name" autocomplete="name"></label>${PASSWORD}`,
);
const RESET = page('Choose a new password', '/v1/auth/reset-password', PASSWORD);

function htmlRoute(url: string, operationId: string, summary: string, html: string): RouteSpec {
  return defineRoute({
    method: 'GET',
    url,
    operationId,
    summary,
    tags: ['auth'],
    auth: 'none',
    responses: { 200: { description: 'An HTML page', contentType: 'text/html' } },
    handler: async ({ reply }) => {
      reply.header('content-type', 'text/html; charset=utf-8');
      reply.header('content-security-policy', CSP);
      reply.header('cache-control', 'no-store');
      reply.header('x-content-type-options', 'nosniff');
      return html;
    },
  });
}

export const passwordPageRoutes: RouteSpec[] = [
  htmlRoute('/setup', 'setupPage', 'The page the first-run setup link opens', SETUP),
  htmlRoute('/reset-password', 'resetPasswordPage', 'The page a password reset link opens', RESET),
];
