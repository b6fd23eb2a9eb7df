import { z } from 'zod';

/**
 * The parts of Slack's interaction payloads this channel reads, checked before anything is done with
 * them. Who clicked is `user.id` in `team.id` (or `user.team_id`): that is all that is trusted, and
 * only because the request was signature-checked (HTTP) or came down the app's own socket (Socket Mode).
 * Which message was clicked is looked up in our own records by channel and ts, never taken from a value.
 */
const Id = z.string().regex(/^[A-Z0-9]{2,32}$/);
const Ts = z.string().regex(/^\d{1,12}\.\d{1,9}$/);

const User = z.object({ id: Id, team_id: Id.optional(), username: z.string().max(200).optional(), name: z.string().max(200).optional() });
const Team = z.object({ id: Id }).nullable().optional();

export const BlockActions = z.object({
  type: z.literal('block_actions'),
  user: User,
  team: Team,
  trigger_id: z.string().max(300).optional(),
  container: z.object({ channel_id: Id.optional(), message_ts: Ts.optional() }).optional(),
  channel: z.object({ id: Id }).optional(),
  message: z.object({ ts: Ts }).optional(),
  actions: z
    .array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional() }))
    .min(1)
    .max(25),
});
export type BlockActions = z.infer<typeof BlockActions>;

export const ViewSubmission = z.object({
  type: z.literal('view_submission'),
  user: User,
  team: Team,
  view: z.object({
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000),
    state: z.object({
      values: z.record(z.string().max(255), z.record(z.string().max(255), z.object({ value: z.string().max(3000).nullable().optional() }))),
    }),
  }),
});
export type ViewSubmission = z.infer<typeof ViewSubmission>;

export const Interaction = z.discriminatedUnion('type', [BlockActions, ViewSubmission]);
export type Interaction = z.infer<typeof Interaction>;

/** What the deny modal carries from the click to the submission: which message it was opened from. */
export const DenyMetadata = z.strictObject({ channel: Id, ts: Ts });
