import { z } from 'zod';
import { ActionView } from './schemas.js';

/** The wire format of the reviewer's inbox (GET /v1/inbox) and of one action seen by a person (GET /v1/inbox/:id). */
const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

export const InboxQuery = z.strictObject({
  agent: printable(256).optional().meta({ description: 'Only actions proposed by this agent (name or id)' }),
  tool: printable(256).optional().meta({ description: 'Only actions for this tool' }),
  workflow: printable(256).optional().meta({ description: 'Only actions under review by this workflow (its name)' }),
  older_than: z
    .string()
    .regex(/^\d{1,6}[smhd]$/, 'older_than is a duration such as 30m, 2h or 1d')
    .optional()
    .meta({ description: 'Only actions proposed at least this long ago (e.g. 30m, 2h, 1d)' }),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'limit must be a whole number')
    .optional()
    .meta({ description: 'At most this many items (1-200, default 100); the counts always cover everything' }),
});

/**
 * An action in the inbox list: what a reviewer needs to pick it, without its payloads (arguments,
 * metadata, result…), which an agent controls and which can be large; the action page reads them whole.
 */
export const ActionSummary = ActionView.omit({
  arguments: true,
  original_arguments: true,
  annotations: true,
  metadata: true,
  receipt: true,
  reviews: true,
  result: true,
  redeemed: true,
})
  .extend({ arguments_bytes: z.number().int().meta({ description: 'Size of the arguments (UTF-8 JSON)' }) })
  .meta({ id: 'ActionSummary' });
export type ActionSummary = z.infer<typeof ActionSummary>;

const Owner = z
  .object({ id: z.string(), email: z.string() })
  .nullable()
  .meta({ description: 'The person who owns the proposing agent (null if they no longer exist)' });
const CanDecide = z.boolean().meta({ description: 'Whether the caller may vote on it now (as themselves or for someone)' });
const WhyNot = z
  .string()
  .nullable()
  .meta({ description: 'Why the caller may not vote now as themselves, as a vote would be refused; null when they may' });
const MayVoteFor = z
  .array(z.object({ email: z.string(), delegation_id: z.string() }))
  .meta({ description: 'People whose vote the caller may cast here (delegations in force; send `for`); empty when none' });

export const InboxEntry = z
  .object({ action: ActionSummary, owner: Owner, can_decide: CanDecide, why_not: WhyNot, may_vote_for: MayVoteFor })
  .meta({ id: 'InboxEntry' });
export type InboxEntry = z.infer<typeof InboxEntry>;

export const InboxItem = z
  .object({
    action: ActionView,
    owner: z
      .object({ id: z.string(), email: z.string() })
      .nullable()
      .meta({ description: 'The person who owns the proposing agent (null if they no longer exist)' }),
    can_decide: CanDecide,
    why_not: WhyNot,
    may_vote_for: MayVoteFor,
  })
  .meta({ id: 'InboxItem' });
export type InboxItem = z.infer<typeof InboxItem>;

export const Inbox = z
  .object({
    need_you: z.number().int().meta({ description: 'Pending actions (matching the filters) the caller may decide now' }),
    waiting_on_others: z.number().int().meta({ description: 'Pending actions (matching the filters) that wait on other people' }),
    items: z
      .array(InboxEntry)
      .meta({ description: 'Those the caller may decide first, then the others; each group by deadline, earliest first (none last)' }),
  })
  .meta({ id: 'Inbox' });
export type Inbox = z.infer<typeof Inbox>;

export const InboxIdParams = z.strictObject({ id: z.string().max(64) });
