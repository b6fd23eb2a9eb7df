import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';

/** Slack's own bound: a request signed more than five minutes ago (or ahead) is refused. */
export const MAX_AGE_MS = 5 * 60_000;
const SIGNATURE = /^v0=[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,12}$/;

/**
 * Checks an interaction request as Slack documents it: `v0=` HMAC-SHA256 with the signing secret over
 * `v0:{timestamp}:{raw body}`, compared in constant time; the timestamp within five minutes of now (the
 * injected clock); and never seen before on any node: the signature is recorded in the database (with
 * its expiry, when the timestamp check alone would refuse it) in the same statement that checks it.
 * Throws `unauthenticated` for each refusal; nothing in the body is read before this passes.
 */
export async function verifySlackRequest(
  deps: Deps,
  secret: string,
  rawBody: string,
  timestamp: string | undefined,
  signature: string | undefined,
): Promise<void> {
  if (timestamp === undefined || signature === undefined || !TIMESTAMP.test(timestamp) || !SIGNATURE.test(signature)) {
    throw new CsError('unauthenticated', 'not a signed Slack request');
  }
  const now = deps.clock.now();
  const at = Number(timestamp) * 1000;
  if (Math.abs(now - at) > MAX_AGE_MS) throw new CsError('unauthenticated', 'the request is too old (or from the future)');
  const expected = createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest();
  const given = Buffer.from(signature.slice(3), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new CsError('unauthenticated', 'the Slack signature does not match');
  }
  const fresh = await deps.committer.run(async (tx) => {
    // Expired entries go as new ones come: the set never holds more than five minutes of requests (each way).
    await tx.db.deleteFrom('slack_seen_requests').where('expires_at', '<', tx.now).execute();
    const r = await tx.db
      .insertInto('slack_seen_requests')
      .values({ signature, expires_at: at + MAX_AGE_MS })
      .onConflict((oc) => oc.column('signature').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  });
  if (!fresh) throw new CsError('unauthenticated', 'this Slack request was received already (a replay)');
}
