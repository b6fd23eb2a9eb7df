import type {
  Action,
  ErrorBody,
  Inbox,
  InboxFilter,
  InboxItem,
  Me,
  PasskeyStep,
  ReviewInput,
  SignedIn,
  SignInInput,
  SignInMethods,
} from './types.js';

/** A refusal from the gateway, with its stable `code` (conflict, forbidden, unauthorized…). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | undefined,
    /** Every problem with the input, when the gateway named them (a refused policy: each rule and position). */
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string';
}

/** The CSRF token the gateway set beside the session cookie (docs/people.md, "CSRF: writes with a cookie"). */
function csrfToken(): string | undefined {
  return /(?:^|;\s*)cs_csrf=([^;]+)/.exec(document.cookie)?.[1];
}

/** One call to the gateway (same origin, session cookie, CSRF header on writes); throws ApiError on a refusal. */
export async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return (await requestWithStatus<T>(method, path, body)).body;
}

export async function requestWithStatus<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method === 'POST') {
    headers['content-type'] = 'application/json';
    const csrf = csrfToken();
    if (csrf !== undefined) headers['x-csrf-token'] = csrf;
  }
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    if (isErrorBody(parsed))
      throw new ApiError(res.status, parsed.error.code, parsed.error.message, parsed.error.details, parsed.error.issues ?? []);
    throw new ApiError(res.status, 'http_error', `the gateway answered ${res.status}`, undefined);
  }
  return { status: res.status, body: parsed as T };
}

/** A query string from the defined, non-empty params ('' when none). */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** Every call the console makes, typed by the gateway's wire format. */
export const api = {
  me: () => request<Me>('GET', '/v1/me'),
  signInMethods: () => request<SignInMethods>('GET', '/v1/auth/methods'),
  /** 200: signed in; 202: the password was right and a passkey step follows. */
  signIn: async (input: SignInInput): Promise<{ done: SignedIn } | { passkey: PasskeyStep }> => {
    const r = await requestWithStatus<SignedIn | PasskeyStep>('POST', '/v1/auth/login', input);
    return r.status === 202 ? { passkey: r.body as PasskeyStep } : { done: r.body as SignedIn };
  },
  signInPasskey: (pending_token: string, credential: unknown) =>
    request<SignedIn>('POST', '/v1/auth/login/passkey', { pending_token, credential }),
  /** Step-up: the two routes a step_up_required refusal names (options, then verify). */
  reauthOptions: (path: string) => request<Record<string, unknown>>('POST', path),
  reauthVerify: (path: string, credential: unknown) => request<{ session_id: string; strong_at: string }>('POST', path, { credential }),
  signOut: () => request<{ id: string }>('POST', '/v1/auth/logout'),
  inbox: (f: InboxFilter) => request<Inbox>('GET', `/v1/inbox${query({ agent: f.agent, tool: f.tool })}`),
  /** The live count: the inbox's counts with one item (the counts always cover everything), read on every change. */
  needYou: () => request<Inbox>('GET', '/v1/inbox?limit=1').then((d) => d.need_you),
  item: (id: string) => request<InboxItem>('GET', `/v1/inbox/${encodeURIComponent(id)}`),
  review: (id: string, input: ReviewInput) => request<Action>('POST', `/v1/actions/${encodeURIComponent(id)}/reviews`, input),
  ssoUrl: (returnTo: string) => `/v1/auth/oidc/login${query({ return_to: returnTo })}`,
};
