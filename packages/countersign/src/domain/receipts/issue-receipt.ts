import { SignJWT } from 'jose';
import type { Config } from '../../config/schema.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { AuditInput, Tx } from '../../db/committer.js';
import type { ActionsTable } from '../../db/types.js';
import { sha256Hex } from '../../lib/canonical.js';
import { newId } from '../../lib/ids.js';
import { RECEIPT_TYPE, type ReceiptClaims, receiptSubject } from '../../receipts/verify-receipt.js';

export interface ReceiptFields {
  receipt: string;
  receipt_jti: string;
  execute_by: number;
}

export interface IssuedReceipt {
  fields: ReceiptFields;
  /** The `receipt.issued` entry, for the caller to append after the approval's own entries. */
  audit: AuditInput;
}

export interface Signer {
  keyring: Keyring;
  config: Config;
}

/**
 * Signs the receipt for an action being approved, inside the approving
 * transaction: it binds the final arguments (edited ones if edited), the
 * policy version and who approved, and is valid for the execution window.
 */
export async function issueReceipt(
  tx: Tx,
  signer: Signer,
  row: ActionsTable,
  approvedBy: ReceiptClaims['cs']['approved_by'],
  approvers: string[],
): Promise<IssuedReceipt> {
  const jti = newId();
  const executeBy = tx.now + signer.config.receipts.executionWindowMs;
  const subject = receiptSubject({ agent: row.agent_id, tool: row.tool, arguments: JSON.parse(row.arguments), resource: row.resource });
  const policy = JSON.parse(row.policy) as { hash?: string };
  const cs: ReceiptClaims['cs'] = {
    v: 1,
    action_sha256: sha256Hex(subject),
    tool: row.tool,
    policy_hash: policy.hash ?? null,
    approved_by: approvedBy,
    approvers,
  };
  const key = signer.keyring.active;
  const receipt = await new SignJWT({ cs })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: RECEIPT_TYPE })
    .setIssuer(signer.config.receipts.issuer)
    .setSubject(row.id)
    .setAudience(row.agent_id)
    .setJti(jti)
    .setIssuedAt(Math.floor(tx.now / 1000))
    .setExpirationTime(Math.floor(executeBy / 1000))
    .sign(key.privateKey);
  return {
    fields: { receipt, receipt_jti: jti, execute_by: executeBy },
    audit: {
      actor: { type: 'system', id: null },
      event: 'receipt.issued',
      actionId: row.id,
      data: { jti, kid: key.kid, action_sha256: cs.action_sha256, execute_by: new Date(executeBy).toISOString(), approved_by: approvedBy },
    },
  };
}
