import { checkForm, type ReceiptClaims, ReceiptError, verifyReceipt } from '@countersign/sdk/receipts';
import { z } from 'zod';
import { loadJwks } from '../../crypto/publish-keys.js';
import type { Deps } from '../../deps.js';
import { EVENT } from '../../events/types.js';
import { CsError, type ErrorCode } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { emitActionEvent } from '../actions/emit-action-event.js';
import { JsonObject } from '../actions/schemas.js';
import { applyTransition, loadForUpdate } from '../actions/transition.js';
import type { Principal } from '../identities/principal.js';
import { parseInput } from '../validate.js';

export const RedeemBody = z
  .strictObject({
    receipt: z.string().min(1).max(16_384),
    /** The action about to run: it must be exactly what the receipt approved. */
    action: z.strictObject({
      id: z.string().max(64),
      tool: z.string().min(1).max(256),
      arguments: JsonObject,
      resource: z.string().max(2048).nullable().optional(),
    }),
  })
  .meta({ id: 'RedeemReceipt' });

export const RedeemResult = z
  .object({ action_id: z.string(), jti: z.string(), redeemed_at: z.string(), claims: z.record(z.string(), z.unknown()) })
  .meta({ id: 'Redeemed' });
export type RedeemResult = z.infer<typeof RedeemResult>;

/**
 * The executor's last check before running an approved action: signature,
 * algorithm, expiry, audience, and that the action is exactly the approved
 * one; then the receipt is marked used with a compare-and-set, so of any
 * number of concurrent redeems exactly one succeeds. Every refusal is audited.
 */
export async function redeemReceipt(deps: Deps, principal: Principal, body: unknown): Promise<RedeemResult> {
  if (principal.type !== 'agent') throw new CsError('forbidden', 'receipts are redeemed with the key of the agent they were issued to');
  const input = parseInput(RedeemBody, body);
  await throttle(deps, principal);
  let claims: ReceiptClaims;
  try {
    checkForm(input.receipt);
    const jwks = (await loadJwks(deps)) as Parameters<typeof verifyReceipt>[2];
    claims = await verifyReceipt(input.receipt, { ...input.action, agent: principal.id }, jwks, {
      now: new Date(deps.clock.now()),
      issuer: deps.config.receipts.issuer,
    });
  } catch (e) {
    if (!(e instanceof ReceiptError)) throw e;
    // Nothing is verified: the action id is the caller's say, so the refusal is not filed under that action.
    throw await refuse(deps, principal, { claimed: input.action.id }, e.code, e.message);
  }
  let mine: string | null = null;
  return deps.committer
    .run(async (tx) => {
      if (!isId(claims.sub)) throw new CsError('receipt_invalid', 'the receipt names no action');
      const row = await loadForUpdate(tx, claims.sub, { lock: true });
      if (row.agent_id !== principal.id || row.receipt_jti !== claims.jti) {
        throw new CsError('receipt_invalid', 'this receipt was not issued for this action');
      }
      mine = row.id;
      if (row.redeemed_at !== null)
        throw new CsError('receipt_used', `receipt ${claims.jti} was already redeemed at ${new Date(row.redeemed_at).toISOString()}`);
      if (row.status !== 'approved' || row.execute_by === null || row.execute_by <= tx.now) {
        throw new CsError(
          'receipt_expired',
          `action ${row.id} is ${row.status === 'approved' ? 'past its execution window' : row.status}; it may no longer run`,
        );
      }
      // approved → redeemed in the state machine; a lost race is someone else's redemption.
      const redeemed = await applyTransition(tx, row, 'redeem', {}).catch((e: unknown) => {
        throw e instanceof CsError && e.code === 'conflict' ? new CsError('receipt_used', `receipt ${claims.jti} was already redeemed`) : e;
      });
      tx.audit({ actor: { type: 'agent', id: principal.id }, event: 'receipt.redeemed', actionId: row.id, data: { jti: claims.jti } });
      await emitActionEvent(tx, redeemed, EVENT.actionRedeemed);
      return {
        action_id: row.id,
        jti: claims.jti,
        redeemed_at: new Date(tx.now).toISOString(),
        claims: claims as unknown as Record<string, unknown>,
      };
    })
    .catch(async (e: unknown) => {
      // A refusal inside the transaction rolled it back; record it in its own, under the action only if it is the caller's.
      if (e instanceof CsError && e.code.startsWith('receipt_')) {
        throw await refuse(deps, principal, mine === null ? { claimed: claims.sub } : { actionId: mine }, e.code, e.message);
      }
      throw e;
    });
}

/** An agent past its refusals for this minute is answered 429; the first such answer is audited, the rest are not. */
async function throttle(deps: Deps, principal: Principal & { type: 'agent' }): Promise<void> {
  const waitMs = deps.receiptRefusals.blockedFor(principal.id);
  if (waitMs === null) return;
  const seconds = Math.ceil(waitMs / 1000);
  if (deps.receiptRefusals.firstThrottle(principal.id)) {
    await deps.committer.run(async (tx) => {
      tx.audit({
        actor: { type: 'agent', id: principal.id },
        event: 'receipt.refusals_throttled',
        data: { limit_per_minute: deps.config.receipts.maxRefusalsPerMinute, retry_after_seconds: seconds },
      });
    });
  }
  throw new CsError('rate_limited', `too many refused redemptions from this agent; retry in ${seconds} s`, {
    details: { retry_after_seconds: seconds },
  });
}

/**
 * Audits a refusal against the calling agent. It is filed under an action only when that action is the
 * caller's own; another agent's (or no) action's id is kept as data (`claimed_action_id`), so no agent can
 * attach entries to another agent's action.
 */
async function refuse(
  deps: Deps,
  principal: Principal & { type: 'agent' },
  target: { actionId: string } | { claimed: string },
  code: ErrorCode,
  message: string,
): Promise<CsError> {
  deps.receiptRefusals.recordRefusal(principal.id);
  await deps.committer.run(async (tx) => {
    let actionId = 'actionId' in target ? target.actionId : null;
    if ('claimed' in target && isId(target.claimed)) {
      const owner = await tx.db.selectFrom('actions').select('agent_id').where('id', '=', target.claimed).executeTakeFirst();
      if (owner?.agent_id === principal.id) actionId = target.claimed;
    }
    tx.audit({
      actor: { type: 'agent', id: principal.id },
      event: 'receipt.refused',
      actionId,
      data: { code, message, ...(actionId === null && 'claimed' in target ? { claimed_action_id: target.claimed.slice(0, 64) } : {}) },
    });
  });
  return new CsError(code, message);
}
