import { z } from 'zod';
import { freeText } from '../../free-text.js';

/** Wire shapes of delegation (out of office): /v1/me/delegations and /v1/admin/delegations. */

/** An instant: ISO 8601 with a zone (`Z` or an offset), at most millisecond precision, so it is kept exactly. */
const Instant = z.iso
  .datetime({ offset: true })
  .refine((s) => !/\.\d{4,}/.test(s), 'at most millisecond precision')
  .meta({ description: 'ISO 8601 time with a zone, e.g. 2026-12-24T00:00:00Z (returned in UTC)' });

const delegationFields = {
  delegate: z.string().min(1).max(320).meta({ description: 'Who may vote for the delegator: their email or user id' }),
  starts_at: Instant.optional().meta({ description: 'When it starts (default: now)' }),
  ends_at: Instant.meta({ description: 'When it ends (exclusive): in the future, at most 90 days after it starts' }),
  reason: freeText().max(1000).optional().meta({ description: 'Shown to the delegate and in the audit log, e.g. "on leave"' }),
};

export const CreateDelegationBody = z.strictObject(delegationFields).meta({ id: 'CreateDelegation' });
export type CreateDelegationBody = z.infer<typeof CreateDelegationBody>;

export const AdminCreateDelegationBody = z
  .strictObject({
    delegator: z.string().min(1).max(320).meta({ description: 'Whose vote is delegated: their email or user id' }),
    ...delegationFields,
  })
  .meta({ id: 'AdminCreateDelegation' });
export type AdminCreateDelegationBody = z.infer<typeof AdminCreateDelegationBody>;

export const DelegationIdParams = z.strictObject({ id: z.uuid() });

export const DELEGATION_STATES = ['upcoming', 'active', 'ended', 'revoked'] as const;
export type DelegationState = (typeof DELEGATION_STATES)[number];

const PersonRef = z.object({ id: z.string(), email: z.string() });

export const DelegationView = z
  .object({
    id: z.string(),
    delegator: PersonRef.meta({ description: 'Whose vote is delegated' }),
    delegate: PersonRef.meta({ description: 'Who may cast it' }),
    starts_at: z.string(),
    ends_at: z.string().meta({ description: 'Exclusive: from this instant on, the delegate can no longer vote for the delegator' }),
    reason: z.string().nullable(),
    state: z.enum(DELEGATION_STATES).meta({
      description:
        'Now: upcoming, active, ended (its end passed) or revoked. An active one lets the delegate vote only while both people are enabled',
    }),
    created_at: z.string(),
    created_by: z.string().meta({ description: 'The email of who created it: the delegator, or an admin' }),
    revoked_at: z.string().nullable(),
    revoked_by: z.string().nullable(),
  })
  .meta({ id: 'Delegation' });
export type DelegationView = z.infer<typeof DelegationView>;

export const ActingFor = z
  .object({
    delegation_id: z.string(),
    id: z.string().meta({ description: 'The delegator’s user id' }),
    email: z.string().meta({ description: 'Vote for them with `for: "<this email>"` in a review' }),
    until: z.string(),
  })
  .meta({ id: 'ActingFor' });
export type ActingFor = z.infer<typeof ActingFor>;

export const MyDelegations = z
  .object({
    given: z.array(DelegationView).meta({ description: 'Delegations of my vote, newest first' }),
    held: z.array(DelegationView).meta({ description: 'Delegations I hold, newest first' }),
    acting_for: z.array(ActingFor).meta({ description: 'Whom I may vote for right now' }),
  })
  .meta({ id: 'MyDelegations' });
