import assert from 'node:assert/strict';
import type { Config } from '../src/config/schema.js';
import { issueResetLink } from '../src/domain/identities/links/issue-reset-link.js';
import { ADMIN, type ApiResponse, call, type World } from './helpers.js';

/** The address the in-process requests claim to reach the gateway at, and so the same-origin Origin. */
export const HOST = '127.0.0.1:8700';
export const ORIGIN = `http://${HOST}`;
export const PASSWORD = 'correct horse battery staple';

/**
 * scrypt at N=2^14 instead of OWASP's 2^17: the same code path at an eighth of the memory and time, so a
 * suite that signs in dozens of times stays fast on two cores. kdf tests run the default cost.
 */
export function fastPasswords(c: Config): Config {
  return { ...c, auth: { ...c.auth, local: { ...c.auth.local, scryptLogN: 14 } } };
}

/** `set-cookie` response headers as name → { value, attributes }. */
export function setCookies(res: ApiResponse): Record<string, { value: string; attrs: string[] }> {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  const out: Record<string, { value: string; attrs: string[] }> = {};
  for (const line of list as string[]) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = (pair as string).indexOf('=');
    out[(pair as string).slice(0, eq)] = { value: (pair as string).slice(eq + 1), attrs };
  }
  return out;
}

export interface Browser {
  token: string;
  csrf: string;
  /** Headers a same-origin page sends: the cookies, its CSRF token, its Origin. */
  headers: Record<string, string>;
}

export function browserFrom(res: ApiResponse): Browser {
  const c = setCookies(res);
  const token = c.cs_session?.value;
  const csrf = c.cs_csrf?.value;
  assert.ok(token && csrf, `sign-in set the cookies (${res.status} ${JSON.stringify(res.body)})`);
  return {
    token,
    csrf,
    headers: { cookie: `cs_session=${token}; cs_csrf=${csrf}`, 'x-csrf-token': csrf, origin: ORIGIN, host: HOST },
  };
}

/** A request from the browser, without an API key. */
export function browserCall(w: World, b: Browser, method: 'GET' | 'POST', url: string, body?: unknown, extra: Record<string, string> = {}) {
  return call(w, method, url, undefined, body, { ...b.headers, ...extra });
}

/** Gives a person a password the way an admin does (a reset link, redeemed), which also signs them in. */
export async function withPassword(w: World, email: string, password = PASSWORD, origin = ORIGIN): Promise<Browser> {
  const link = await issueResetLink(w.gw.deps, ADMIN, email, new URL(origin));
  const res = await redeem(w, '/v1/auth/reset-password', { token: tokenOf(link.url), password }, origin);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return browserFrom(res);
}

export function tokenOf(url: string): string {
  const m = /#token=([A-Za-z0-9_-]{43})$/.exec(url);
  assert.ok(m?.[1], `a link with a token: ${url}`);
  return m[1];
}

export function redeem(w: World, url: string, body: unknown, origin = ORIGIN) {
  return call(w, 'POST', url, undefined, body, { origin, host: HOST });
}

export function login(w: World, email: string, password = PASSWORD, headers: Record<string, string> = {}) {
  return call(w, 'POST', '/v1/auth/login', undefined, { email, password }, { origin: ORIGIN, host: HOST, ...headers });
}
