import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import type { Principal } from '../../domain/identities/principal.js';
import { parseInput } from '../../domain/validate.js';
import { CsError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { webhookAdmin } from './admin-access.js';
import { consumerName, toWebhookView } from './endpoint-row.js';
import { CreateWebhookBody, type WebhookWithSecret } from './schemas.js';
import { encryptSecret, loadOrCreateKey, newWebhookSecret, secretKeyFile } from './secret-box.js';

/**
 * Adds an endpoint and returns its secret, this once. The secret is generated here (never chosen by the
 * caller) and stored encrypted. The endpoint's consumer row is written in the same transaction with its
 * cursor at the current head, so it is owed exactly the events committed after it was created, whichever
 * node starts delivering and however long that node takes to notice it.
 */
export async function createWebhook(deps: Deps, caller: Principal | Actor, input: unknown): Promise<WebhookWithSecret> {
  const { actor, label } = webhookAdmin(caller);
  const body = parseInput(CreateWebhookBody, input);
  const url = new URL(body.url);
  if (url.protocol !== 'https:' && !body.allow_insecure) {
    throw new CsError('invalid_request', 'the webhook URL must be https:// (an admin may set allow_insecure for a plain http:// endpoint)');
  }
  if (url.username !== '' || url.password !== '') throw new CsError('invalid_request', 'the webhook URL must not carry credentials');
  const key = loadOrCreateKey(secretKeyFile(deps.config));
  const secret = newWebhookSecret();
  const id = newId();
  const types = [...new Set(body.event_types)];
  return deps.committer.run(async (tx) => {
    const row = {
      id,
      url: url.toString(),
      description: body.description,
      event_types: JSON.stringify(types),
      allow_insecure: body.allow_insecure ? 1 : 0,
      allow_private: body.allow_private ? 1 : 0,
      secret_enc: encryptSecret(key, id, secret),
      previous_secret_enc: null,
      previous_expires_at: null,
      disabled_at: null,
      disabled_reason: null,
      version: 1,
      created_at: tx.now,
      created_by: label,
      updated_at: tx.now,
    };
    await tx.db.insertInto('webhook_endpoints').values(row).execute();
    const head = await tx.db.selectFrom('chain_head').select('event_seq').where('id', '=', 1).executeTakeFirstOrThrow();
    await tx.db
      .insertInto('event_consumers')
      .values({
        name: consumerName(id),
        cursor: Number(head.event_seq),
        lease_owner: null,
        lease_expires_at: null,
        registered_at: tx.now,
        updated_at: tx.now,
        cursor_ts: null,
      })
      .execute();
    tx.audit({
      actor,
      event: 'webhook.created',
      data: {
        endpoint_id: id,
        url: row.url,
        event_types: types,
        description: body.description,
        allow_insecure: body.allow_insecure,
        allow_private: body.allow_private,
      },
    });
    return { ...toWebhookView(row, tx.now), secret };
  });
}
