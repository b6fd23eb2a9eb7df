export {
  actionDigest,
  RECEIPT_TYPE,
  type ReceiptAction,
  type ReceiptClaims,
  ReceiptError,
  type ReceiptErrorCode,
  receiptSubject,
  verifyReceipt,
} from '@countersign/sdk/receipts';
export { loadConfig } from './config/load.js';
export type { Config } from './config/schema.js';
export type { Actor } from './db/committer.js';
export { closeDeps, createDeps, type Deps } from './deps.js';
export * as schemas from './domain/actions/schemas.js';
export { addAgent } from './domain/identities/add-agent.js';
export { addUser } from './domain/identities/add-user.js';
export { type Gateway, startGateway } from './gateway.js';
export { canonicalJson } from './lib/canonical.js';
export { type Clock, FakeClock, systemClock } from './lib/clock.js';
export { CsError, ERROR_CODES, type ErrorCode } from './lib/errors.js';
