import type { Kysely } from 'kysely';
import type { DB, WebhookEndpointsTable } from '../../db/types.js';
import { CsError } from '../../lib/errors.js';
import { isId } from '../../lib/ids.js';
import type { WebhookView } from './schemas.js';
import { decryptSecret } from './secret-box.js';

/** Each endpoint has its own durable consumer, so its cursor, retries and dead letters are its own. */
export function consumerName(endpointId: string): string {
  return `webhook-${endpointId}`;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export function eventTypesOf(row: WebhookEndpointsTable): string[] {
  return JSON.parse(row.event_types) as string[];
}

export function toWebhookView(row: WebhookEndpointsTable, now: number): WebhookView {
  const overlap = row.previous_expires_at !== null && Number(row.previous_expires_at) > now ? Number(row.previous_expires_at) : null;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: eventTypesOf(row),
    allow_insecure: Number(row.allow_insecure) === 1,
    allow_private: Number(row.allow_private) === 1,
    enabled: row.disabled_at === null,
    disabled_at: iso(row.disabled_at),
    disabled_reason: row.disabled_reason,
    previous_secret_valid_until: iso(overlap),
    consumer: consumerName(row.id),
    version: Number(row.version),
    created_at: iso(row.created_at) ?? '',
    created_by: row.created_by,
    updated_at: iso(row.updated_at) ?? '',
  };
}

export async function findEndpoint(db: Kysely<DB>, id: string): Promise<WebhookEndpointsTable> {
  const row = isId(id) ? await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
  if (!row) throw new CsError('not_found', `no webhook endpoint with id ${id}`);
  return row;
}

/** The secrets that sign a delivery now: the current one, and the previous one while its overlap lasts. */
export function signingSecrets(key: Buffer, row: WebhookEndpointsTable, now: number): string[] {
  const secrets = [decryptSecret(key, row.id, row.secret_enc)];
  if (row.previous_secret_enc !== null && row.previous_expires_at !== null && Number(row.previous_expires_at) > now) {
    secrets.push(decryptSecret(key, row.id, row.previous_secret_enc));
  }
  return secrets;
}
