import { z } from 'zod';
import { loadJwks } from '../../crypto/publish-keys.js';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { RedeemBody, RedeemResult, redeemReceipt } from '../../domain/receipts/redeem-receipt.js';
import { tracedStep } from '../../telemetry/spans.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

const err = (description: string) => ({ description, schema: ErrorBody });

const Jwks = z
  .object({
    keys: z.array(z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() })),
  })
  .meta({ id: 'JWKS' });

/** The action a redemption names, for its span's link; the receipt, not this, is what the verb trusts. */
function claimedActionId(body: unknown): string | undefined {
  const parsed = RedeemBody.safeParse(body);
  return parsed.success ? parsed.data.action.id : undefined;
}

export const receiptRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    url: '/.well-known/jwks.json',
    operationId: 'jwks',
    summary: 'Public keys that verify approval receipts and audit checkpoints (every key ever used, rotations included)',
    tags: ['receipts'],
    auth: 'none',
    responses: { 200: { description: 'JWKS', schema: Jwks } },
    handler: async ({ deps, reply }) => {
      reply.header('cache-control', 'public, max-age=300');
      return loadJwks(deps);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/receipts/redeem',
    operationId: 'redeemReceipt',
    summary: 'Check a receipt against the action about to run and mark it used (once)',
    tags: ['receipts'],
    auth: 'agent',
    refusal: 'receipts are redeemed with the key of the agent they were issued to',
    keyCheckedAtCommit: true,
    body: RedeemBody,
    responses: {
      200: { description: 'Redeemed: run the action now, exactly as approved', schema: RedeemResult },
      400: err('receipt_invalid (bad signature, unknown key, wrong audience or issuer), receipt_unsigned, receipt_bad_algorithm'),
      401: err('Missing or bad API key'),
      403: err('Not the agent the receipt was issued to'),
      409: err('receipt_used: already redeemed'),
      410: err('receipt_expired: past the execution window'),
      422: err('receipt_wrong_action, receipt_arguments_changed'),
    },
    handler: async ({ deps, principal, body, request }) =>
      deps.tracing.enabled
        ? tracedStep(deps, 'countersign.redeem', { actionId: claimedActionId(body), headers: request.headers, agentId: principal.id }, () =>
            redeemReceipt(deps, principal, body),
          )
        : redeemReceipt(deps, principal, body),
  }),
];
