import { z } from 'zod';

const Id = z.string().min(1).max(1000);
const Account = z.looseObject({ id: Id, aadObjectId: z.string().max(100).optional(), name: z.string().max(1000).optional() });

/**
 * The parts of a Bot Framework activity the bot reads, validated; the rest passes untouched (the schema
 * is loose: Teams adds fields over time). Everything in an activity is data, never trusted until the
 * token that came with it was checked, and the card data in an invoke is what a client sent.
 */
export const Activity = z.looseObject({
  type: z.string().min(1).max(100),
  id: z.string().max(1000).optional(),
  name: z.string().max(200).optional(),
  channelId: z.string().max(100).optional(),
  serviceUrl: z.url().max(2000),
  from: Account,
  recipient: Account.optional(),
  conversation: z.looseObject({
    id: Id,
    conversationType: z.string().max(100).optional(),
    tenantId: z.string().max(100).optional(),
  }),
  channelData: z
    .looseObject({
      tenant: z.looseObject({ id: z.string().max(100) }).optional(),
    })
    .optional(),
  action: z.string().max(100).optional(),
  value: z.unknown().optional(),
});
export type Activity = z.infer<typeof Activity>;

/** The value of an `adaptiveCard/action` invoke: an Action.Execute with our verb and data (inputs merged in). */
export const CardAction = z.looseObject({
  action: z.looseObject({
    type: z.literal('Action.Execute'),
    verb: z.enum(['refresh', 'approve', 'deny']),
    data: z.looseObject({
      actionId: z.string().min(1).max(64),
      reason: z.string().max(65_536).optional(),
    }),
  }),
  trigger: z.enum(['manual', 'automatic']).optional(),
});
export type CardAction = z.infer<typeof CardAction>;

/** The tenant an activity comes from (Teams puts it in channelData; the conversation carries it too); GUIDs compare lower-case. */
export function tenantOf(a: Activity): string | undefined {
  return (a.channelData?.tenant?.id ?? a.conversation.tenantId)?.toLowerCase();
}

/** The sender's Entra object id, lower-case (Microsoft sends either case), if the activity has one. */
export function aadOf(a: Activity): string | undefined {
  return a.from.aadObjectId?.toLowerCase();
}

/** An invoke's answer, the body of the HTTP 200 to the Connector. */
export type InvokeResponse =
  | { statusCode: 200; type: 'application/vnd.microsoft.card.adaptive'; value: Record<string, unknown> }
  | { statusCode: 400 | 403 | 404 | 500; type: 'application/vnd.microsoft.error'; value: { code: string; message: string } };

export function cardResponse(card: Record<string, unknown>): InvokeResponse {
  return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card };
}

export function errorResponse(statusCode: 400 | 403 | 404 | 500, code: string, message: string): InvokeResponse {
  return { statusCode, type: 'application/vnd.microsoft.error', value: { code, message } };
}
