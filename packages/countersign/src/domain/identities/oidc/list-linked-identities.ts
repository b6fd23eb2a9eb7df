import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../../../db/types.js';

export const LinkedIdentityView = z
  .object({
    issuer: z.string(),
    subject: z.string(),
    /** The email the IdP asserted at the last sign-in (not used to match: informative only). */
    email: z.string().nullable(),
    linked_at: z.string(),
    last_sign_in_at: z.string().nullable(),
  })
  .meta({ id: 'LinkedIdentity' });
export type LinkedIdentityView = z.infer<typeof LinkedIdentityView>;

const iso = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** The identity-provider accounts a person signs in with, oldest link first. */
export async function listLinkedIdentities(db: Kysely<DB>, userId: string): Promise<LinkedIdentityView[]> {
  const rows = await db
    .selectFrom('linked_identities')
    .select(['issuer', 'subject', 'email', 'created_at', 'last_sign_in_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('subject')
    .execute();
  return rows.map((r) => ({
    issuer: r.issuer,
    subject: r.subject,
    email: r.email,
    linked_at: iso(r.created_at) as string,
    last_sign_in_at: iso(r.last_sign_in_at),
  }));
}
