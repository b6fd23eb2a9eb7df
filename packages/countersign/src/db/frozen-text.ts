import { type RawBuilder, sql } from 'kysely';

/**
 * The frozen text (an action's policy decision or workflow, migration 028) a digest column names, as a scalar
 * subquery for a select list: `frozenText('a.policy_digest').as('policy')`. Raw SQL so that it serves any alias
 * of `actions`; the same text in both dialects. Null when the column is null.
 */
export function frozenText<T extends string | null = string | null>(digestColumn: string): RawBuilder<T> {
  return sql<T>`(select fd.text from frozen_documents fd where fd.digest = ${sql.ref(digestColumn)})`;
}
