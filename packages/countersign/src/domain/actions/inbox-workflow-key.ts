import { createHash } from 'node:crypto';

/**
 * The short key of a frozen workflow (actions.workflow_key, migration 026): the first 128 bits of the
 * SHA-256 of its text, base64url (22 characters). The inbox groups and counts pending actions by it
 * (inbox-rows.ts) from a covering index, instead of reading and comparing the workflow text of each.
 *
 * Only equal keys are trusted to mean equal text: the inbox reads the text of each distinct key once and
 * classifies with it. Two keys for one text (a digest changed in a later release) would only split a
 * class in two; one key for two texts would need a SHA-256 collision.
 */
export function workflowKey(frozen: string): string {
  return createHash('sha256').update(frozen).digest('base64url').slice(0, 22);
}
