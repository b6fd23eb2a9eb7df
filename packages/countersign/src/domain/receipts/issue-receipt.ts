import { sign } from 'node:crypto';
import { RECEIPT_TYPE, type ReceiptClaims, receiptSubject } from '@countersign/sdk/receipts';
import type { Config } from '../../config/schema.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { AuditInput } from '../../db/committer.js';
import type { ActionsTable } from '../../db/types.js';
import { sha256Hex } from '../../lib/canonical.js';
import { newId } from '../../lib/ids.js';

const b64url = (text: string) => Buffer.from(text).toString('base64url');

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
  at: { now: number },
  signer: Signer,
  row: Pick<ActionsTable, 'id' | 'agent_id' | 'tool' | 'arguments' | 'resource' | 'policy'>,
  approvedBy: ReceiptClaims['cs']['approved_by'],
  approvers: string[],
): Promise<IssuedReceipt> {
  const jti = newId();
  const executeBy = at.now + signer.config.receipts.executionWindowMs;
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
  const header = { alg: 'EdDSA', kid: key.kid, typ: RECEIPT_TYPE };
  const claims = {
    iss: signer.config.receipts.issuer,
    sub: row.id,
    aud: row.agent_id,
    jti,
    iat: Math.floor(at.now / 1000),
    exp: Math.floor(executeBy / 1000),
    cs,
  };
  // A plain compact JWS (RFC 7515) signed with node:crypto: on Node 20, jose's WebCrypto path costs ~10x more per approval.
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign(null, Buffer.from(input), key.privateKey).toString('base64url');
  const receipt = `${input}.${signature}`;
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
