import { z } from 'zod';

export const DELIVERY_STATUSES = ['queued', 'sent', 'failed', 'dead'] as const;

export const DeliveryView = z
  .object({
    id: z.string(),
    action_id: z.string().nullable(),
    event_seq: z.number().int().meta({ description: 'The event this notification is about' }),
    event_type: z.string(),
    channel: z.string().meta({ description: 'email, slack or teams' }),
    recipient: z.string(),
    status: z.enum(DELIVERY_STATUSES).meta({
      description:
        'queued: being sent; sent; failed: the event will be retried; dead: the event was dead-lettered (replay it to try again)',
    }),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    external_ref: z
      .string()
      .nullable()
      .meta({ description: "The channel's reference for the message (SMTP Message-ID; Slack channel/ts; Teams activity ids)" }),
    created_at: z.string(),
    updated_at: z.string(),
    sent_at: z.string().nullable(),
  })
  .meta({ id: 'NotificationDelivery' });
export type DeliveryView = z.infer<typeof DeliveryView>;

export const DeliveryList = z
  .object({ items: z.array(DeliveryView), next_cursor: z.string().nullable() })
  .meta({ id: 'NotificationDeliveryList' });

export const ListDeliveriesQuery = z.strictObject({
  action: z.string().max(64).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
  channel: z.enum(['email', 'slack', 'teams']).optional(),
  cursor: z.string().max(64).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
});
