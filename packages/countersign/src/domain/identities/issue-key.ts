import { z } from 'zod';
import type { Actor } from '../../db/committer.js';
import type { Deps } from '../../deps.js';
import { CsError } from '../../lib/errors.js';
import { parseInput } from '../validate.js';
import { generateKey } from './api-keys.js';
import { findAgent, findUser } from './lookup.js';
import { storeKey } from './store-key.js';

const IssueKeyInput = z.strictObject({
  /** An email names a person; anything else an agent (by name or id). */
  for: z.string().min(1).max(320),
  label: z.string().min(1).max(200).optional(),
});

export interface IssuedKey {
  apiKey: string;
  keyPrefix: string;
  principalType: 'user' | 'agent';
  principalId: string;
  /** The person's email or the agent's name. */
  principal: string;
}

/**
 * A new key for an existing person or agent (a lost key, a rotation): returned once, stored hashed.
 * A disabled principal gets no key; enabling them is a separate, deliberate step.
 */
export async function issueKey(deps: Deps, actor: Actor, input: z.input<typeof IssueKeyInput>): Promise<IssuedKey> {
  const data = parseInput(IssueKeyInput, input);
  const key = generateKey();
  return deps.committer.run(async (tx) => {
    const who = data.for.includes('@')
      ? { type: 'user' as const, row: await findUser(tx.db, data.for) }
      : { type: 'agent' as const, row: await findAgent(tx.db, data.for) };
    const name = who.type === 'user' ? who.row.email : who.row.name;
    if (who.row.disabled_at !== null) throw new CsError('conflict', `${name} is disabled; enable them first`);
    await storeKey(tx, actor, key, { type: who.type, id: who.row.id }, data.label ?? null);
    return { apiKey: key.key, keyPrefix: key.prefix, principalType: who.type, principalId: who.row.id, principal: name };
  });
}
