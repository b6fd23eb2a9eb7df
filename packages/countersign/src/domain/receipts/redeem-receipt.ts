import { checkForm, type ReceiptClaims, ReceiptError, verifyReceipt } from '@countersign/sdk/receipts';
import { z } from 'zod';
import { loadJwks } from '../../crypto/publish-keys.js';
import type { Deps } from '../../deps.js';
import { CsError, type ErrorCode } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import { JsonObject } from '../actions/schemas.js';
import { emitView, loadForUpdate } from '../actions/transition.js';
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
    throw await refuse(deps, principal, input.action.id, e.code, e.message);
  }
  return deps.committer
    .run(async (tx) => {
      if (!isId(claims.sub)) throw new CsError('receipt_invalid', 'the receipt names no action');
      const row = await loadForUpdate(tx, claims.sub, { lock: true });
      if (row.agent_id !== principal.id || row.receipt_jti !== claims.jti) {
        throw new CsError('receipt_invalid', 'this receipt was not issued for this action');
      }
      if (row.redeemed_at !== null)
        throw new CsError('receipt_used', `receipt ${claims.jti} was already redeemed at ${new Date(row.redeemed_at).toISOString()}`);
      if (row.status !== 'approved' || row.execute_by === null || row.execute_by <= tx.now) {
        throw new CsError(
          'receipt_expired',
          `action ${row.id} is ${row.status === 'approved' ? 'past its execution window' : row.status}; it may no longer run`,
        );
      }
      const res = await tx.db
        .updateTable('actions')
        .set({ redeemed_at: tx.now, version: row.version + 1, updated_at: tx.now })
        .where('id', '=', row.id)
        .where('version', '=', row.version)
        .where('redeemed_at', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new CsError('receipt_used', `receipt ${claims.jti} was already redeemed`);
      tx.audit({ actor: { type: 'agent', id: principal.id }, event: 'receipt.redeemed', actionId: row.id, data: { jti: claims.jti } });
      await emitView(tx, { ...row, redeemed_at: tx.now, version: row.version + 1, updated_at: tx.now }, 'action.redeemed');
      return {
        action_id: row.id,
        jti: claims.jti,
        redeemed_at: new Date(tx.now).toISOString(),
        claims: claims as unknown as Record<string, unknown>,
      };
    })
    .catch(async (e: unknown) => {
      // A refusal inside the transaction rolled it back; record it in its own.
      if (e instanceof CsError && e.code.startsWith('receipt_')) throw await refuse(deps, principal, claims.sub, e.code, e.message);
      throw e;
    });
}

async function refuse(
  deps: Deps,
  principal: Principal & { type: 'agent' },
  actionId: string,
  code: ErrorCode,
  message: string,
): Promise<CsError> {
  await deps.committer.run(async (tx) => {
    tx.audit({
      actor: { type: 'agent', id: principal.id },
      event: 'receipt.refused',
      actionId: isId(actionId) ? actionId : null,
      data: { code, message },
    });
  });
  return new CsError(code, message);
}
