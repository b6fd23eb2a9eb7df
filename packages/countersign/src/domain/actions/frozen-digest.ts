import { createHash } from 'node:crypto';

/**
 * The key of a frozen text in `frozen_documents` (migration 028): the full SHA-256 of its exact bytes (UTF-8),
 * hex. Full, not shortened like the inbox's workflow_key: rows are found by it, so two texts with one key
 * would give one action another's policy decision. Stored through capabilities.storedHash (bytea on PostgreSQL).
 */
export function frozenDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
