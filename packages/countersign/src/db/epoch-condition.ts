import { CsError } from '../lib/errors.js';

/**
 * A request's claim that its principal, taken from the key cache without reading the identity epoch
 * (http/key-checked-at-commit.ts), is still the one authenticated at `epoch`. Every operation run under it
 * commits only if the identity epoch at its commit is still `epoch` (the appending statement reads it there,
 * lock-free: EPOCH in append-logs.ts); otherwise its transaction is rolled back before COMMIT and it fails
 * with StalePrincipal.
 */
export class EpochCondition {
  /** At least one commit under this condition checked it and committed. */
  proved = false;
  /** At least one operation under this condition found the epoch moved and was refused. */
  broken = false;
  constructor(readonly epoch: number) {}
}

/** An operation's epoch condition did not hold at commit: nothing of it was written; authenticate again. */
export class StalePrincipal extends CsError {
  constructor() {
    super('unauthenticated', 'the credential changed while the request ran; nothing was written');
  }
}
