import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { parseInput } from '../../domain/validate.js';
import { CsError } from '../../lib/errors.js';
import { webhookAdmin } from './admin-access.js';
import { findEndpoint, toWebhookView } from './endpoint-row.js';
import { parseOverlap, RotateSecretBody, type WebhookWithSecret } from './schemas.js';
import { encryptSecret, loadOrCreateKey, newWebhookSecret, secretKeyFile } from './secret-box.js';

/**
 * Gives an endpoint a new secret (returned this once). The current one becomes the previous secret and
 * keeps signing beside the new one for the overlap (default 24 h), so receivers can switch at their pace:
 * each delivery meanwhile carries both signatures. Rotating again drops the older previous secret at
 * once. Compare-and-set on the version: two rotations at once are one rotation and a conflict.
 */
export async function rotateWebhookSecret(
  deps: Deps,
  caller: Principal | Actor,
  id: string,
  input: unknown = {},
): Promise<WebhookWithSecret> {
  const { actor } = webhookAdmin(caller);
  const body = parseInput(RotateSecretBody, input ?? {});
  const overlapMs = parseOverlap(body.overlap);
  if (overlapMs === undefined) throw new CsError('invalid_request', 'overlap must be a duration between 0 and 7d, such as 24h');
  const key = loadOrCreateKey(secretKeyFile(deps.config));
  const secret = newWebhookSecret();
  return deps.committer.run(async (tx) => {
    const row = await findEndpoint(tx.db, id);
    const changes = {
      secret_enc: encryptSecret(key, row.id, secret),
      previous_secret_enc: overlapMs > 0 ? row.secret_enc : null,
      previous_expires_at: overlapMs > 0 ? tx.now + overlapMs : null,
      version: Number(row.version) + 1,
      updated_at: tx.now,
    };
    const res = await tx.db
      .updateTable('webhook_endpoints')
      .set(changes)
      .where('id', '=', row.id)
      .where('version', '=', row.version)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new CsError('conflict', `webhook ${row.id} changed meanwhile; rotate again`);
    tx.audit({ actor, event: 'webhook.secret_rotated', data: { endpoint_id: row.id, url: row.url, overlap_ms: overlapMs } });
    return { ...toWebhookView({ ...row, ...changes }, tx.now), secret };
  });
}
