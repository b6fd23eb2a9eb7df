import type { Deps } from '../deps.js';

/**
 * Records the public half of every key in this gateway's keyring, so any node
 * (and `audit verify`) can check what it signed, and audits keys seen for the
 * first time.
 */
export async function publishKeys(deps: Deps): Promise<void> {
  await deps.committer.run(async (tx) => {
    const known = new Set((await tx.db.selectFrom('signing_keys').select('kid').execute()).map((r) => r.kid));
    for (const key of deps.keyring.keys) {
      if (known.has(key.kid)) continue;
      await tx.db
        .insertInto('signing_keys')
        .values({ kid: key.kid, public_jwk: JSON.stringify(key.publicJwk), created_at: Date.parse(key.createdAt) })
        .execute();
      tx.audit({
        actor: { type: 'system', id: null },
        event: 'signing_key.created',
        data: { kid: key.kid, public_jwk: key.publicJwk, active: key.kid === deps.keyring.active.kid },
      });
    }
  });
}

/** Every published public key (all nodes, all rotations), as a JWKS. */
export async function loadJwks(deps: Deps): Promise<{ keys: unknown[] }> {
  const rows = await deps.db.read.selectFrom('signing_keys').select(['public_jwk']).orderBy('created_at').execute();
  return { keys: rows.map((r) => JSON.parse(r.public_jwk) as unknown) };
}
