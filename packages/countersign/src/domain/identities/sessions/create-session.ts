import type { Config } from '../../../config/schema.js';
import type { Tx } from '../../../db/committer.js';
import { newId } from '../../../lib/ids.js';
import type { SignInMethod } from '../principal.js';
import { newToken } from './tokens.js';

export interface NewSessionInput {
  userId: string;
  method: SignInMethod;
  /** When the person last authenticated strongly (passkey, IdP auth_time); null for a password alone. */
  strongAt: number | null;
  userAgent: string | null;
  ip: string | null;
}

export interface NewSession {
  id: string;
  /** Goes into the cookie; shown once, stored as sha256. */
  token: string;
  /** The absolute time-out (epoch ms); the idle time-out may end it sooner. */
  expiresAt: number;
}

/**
 * Opens a server-side session for a person who just signed in, inside the sign-in's transaction, and
 * audits it there (`session.created` with the method), so every sign-in path records the same entry.
 */
export async function createSession(tx: Tx, config: Config, input: NewSessionInput): Promise<NewSession> {
  const { token, hash } = newToken();
  const id = newId();
  const expiresAt = tx.now + config.auth.sessions.absoluteTimeoutMs;
  await tx.db
    .insertInto('sessions')
    .values({
      id,
      token_hash: hash,
      user_id: input.userId,
      method: input.method,
      strong_at: input.strongAt,
      created_at: tx.now,
      last_seen_at: tx.now,
      expires_at: expiresAt,
      revoked_at: null,
      user_agent: input.userAgent === null ? null : input.userAgent.slice(0, 512),
      ip: input.ip,
    })
    .execute();
  tx.audit({
    actor: { type: 'user', id: input.userId },
    event: 'session.created',
    data: { session_id: id, user_id: input.userId, method: input.method, strong_at: input.strongAt, ip: input.ip },
  });
  return { id, token, expiresAt };
}
