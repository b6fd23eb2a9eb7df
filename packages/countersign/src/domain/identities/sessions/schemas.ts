import { z } from 'zod';

export const SessionView = z.object({
  id: z.string(),
  method: z.enum(['password', 'passkey', 'oidc', 'setup_link']),
  created_at: z.string().describe('ISO time of sign-in'),
  last_seen_at: z.string().describe('ISO time, refreshed at most once a minute'),
  expires_at: z.string().describe('the absolute time-out; the idle time-out may end it sooner'),
  strong_at: z.string().nullable().describe('when the session last authenticated strongly (passkey, IdP), for step-up stages'),
  user_agent: z.string().nullable(),
  ip: z.string().nullable(),
  current: z.boolean().describe('the session this request was made with'),
});
export type SessionView = z.infer<typeof SessionView>;

export const SessionIdParams = z.strictObject({ id: z.uuid() });

export const SignedIn = z.object({
  user_id: z.string(),
  email: z.string(),
  expires_at: z.string().describe('the session cookie expires then at the latest'),
  csrf_token: z.string().describe('send it as X-CSRF-Token on writes (also in the cs_csrf cookie)'),
});
