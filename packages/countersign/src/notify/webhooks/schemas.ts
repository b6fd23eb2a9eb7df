import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../../events/types.js';
import { parseDuration } from '../../lib/duration.js';

/** The longest a rotated-out secret may stay valid. */
export const MAX_OVERLAP_MS = 7 * 24 * 3600_000;
export const DEFAULT_OVERLAP_MS = 24 * 3600_000;

const eventType = z.enum(EVENT_TYPES as unknown as [EventType, ...EventType[]]);

export const CreateWebhookBody = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .meta({ description: 'https:// (http:// only with allow_insecure)' }),
  event_types: z
    .array(eventType)
    .max(EVENT_TYPES.length)
    .default([])
    .meta({ description: 'The event types sent to this endpoint; empty: every type' }),
  description: z.string().max(500).default(''),
  allow_insecure: z.boolean().default(false).meta({ description: 'Permit a plain http:// URL' }),
  allow_private: z
    .boolean()
    .default(false)
    .meta({ description: 'Permit private, loopback and link-local destinations (refused by default: SSRF guard)' }),
});
export type CreateWebhookBody = z.output<typeof CreateWebhookBody>;

export const RotateSecretBody = z.strictObject({
  overlap: z
    .string()
    .max(32)
    .optional()
    .meta({ description: 'How long the previous secret keeps signing beside the new one, e.g. 24h (default), 0 for none, at most 7d' }),
});

export const DisableWebhookBody = z.strictObject({ reason: z.string().max(500).optional() });

/** An overlap as written (`24h`, `30m`, `0`), checked against its bounds. */
export function parseOverlap(text: string | undefined): number | undefined {
  if (text === undefined) return DEFAULT_OVERLAP_MS;
  const ms = text === '0' ? 0 : parseDuration(text);
  return ms !== undefined && ms >= 0 && ms <= MAX_OVERLAP_MS ? ms : undefined;
}

export const WebhookView = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    event_types: z.array(z.string()).meta({ description: 'Empty: every type' }),
    allow_insecure: z.boolean(),
    allow_private: z.boolean(),
    enabled: z.boolean(),
    disabled_at: z.string().nullable(),
    disabled_reason: z.string().nullable(),
    previous_secret_valid_until: z
      .string()
      .nullable()
      .meta({ description: 'While set, deliveries are signed with the old and new secrets' }),
    consumer: z.string().meta({ description: 'The durable consumer delivering to it (its dead letters are listed under this name)' }),
    version: z.number().int(),
    created_at: z.string(),
    created_by: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookView = z.infer<typeof WebhookView>;

export const WebhookWithSecret = WebhookView.extend({
  secret: z.string().meta({ description: 'The signing secret (whsec_…): shown this once, never again' }),
}).meta({ id: 'WebhookEndpointWithSecret' });
export type WebhookWithSecret = z.infer<typeof WebhookWithSecret>;

export const DeliveryView = z
  .object({
    id: z.string(),
    endpoint_id: z.string(),
    seq: z.number().int().nullable().meta({ description: 'The event; null for a test delivery' }),
    event_type: z.string(),
    webhook_id: z.string().meta({ description: 'The webhook-id header: the same for every attempt of one event' }),
    attempt: z.number().int(),
    status_code: z.number().int().nullable().meta({ description: "The receiver's HTTP status; null when none came" }),
    duration_ms: z.number().int(),
    error: z.string().nullable(),
    ok: z.boolean(),
    at: z.string(),
  })
  .meta({ id: 'WebhookDelivery' });
export type DeliveryView = z.infer<typeof DeliveryView>;

export const DeliveryList = z.object({ items: z.array(DeliveryView), next_cursor: z.string().nullable() });

export const ListDeliveriesQuery = z.strictObject({
  cursor: z.string().max(64).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
});

export const WebhookIdParams = z.strictObject({ id: z.string().max(64) });
