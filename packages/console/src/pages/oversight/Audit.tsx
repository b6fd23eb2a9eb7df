import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError } from '../../api/client.js';
import { oversight } from '../../api/oversight.js';
import type { AuditChainStatus, AuditCheckpoint, AuditVerification } from '../../api/oversight-types.js';

const message = (e: unknown) => (e instanceof ApiError ? e.message : 'The gateway cannot be reached.');

function Hash({ value }: { value: string }): ReactNode {
  return <code className="hash">{value}</code>;
}

function Verification({ v }: { v: AuditVerification }): ReactNode {
  if (v.ok) {
    return (
      <div className="banner verify-ok" role="status" data-testid="verify-result">
        <strong>The chain is intact.</strong> {v.entries} entries verified from genesis to entry {v.head_seq}; {v.checkpoints_matched}{' '}
        signed checkpoint{v.checkpoints_matched === 1 ? '' : 's'} matched. Checked {new Date(v.verified_at).toLocaleString()}.
      </div>
    );
  }
  const bad = v.first_bad;
  return (
    <div className="banner verify-bad" role="alert" data-testid="verify-result">
      <strong>The chain is broken at entry {bad?.seq ?? v.head_seq + 1}</strong> ({bad?.kind ?? 'unknown'}):{' '}
      {bad?.problem ?? 'it does not verify'}. {v.entries} entries before it verify. Checked {new Date(v.verified_at).toLocaleString()}. See
      docs/audit.md, “When verification fails”.
    </div>
  );
}

/** The audit log's state: its head, the latest signed checkpoint, a verification on demand (admins), the export. */
export function Audit({ isAdmin }: { isAdmin: boolean }): ReactNode {
  const [chain, setChain] = useState<AuditChainStatus | null>(null);
  const [checkpoint, setCheckpoint] = useState<AuditCheckpoint | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [result, setResult] = useState<AuditVerification | null>(null);
  const [verifyError, setVerifyError] = useState<string | null>(null);

  const load = useCallback(() => {
    oversight.chain().then(setChain, (e: unknown) => setError(message(e)));
    oversight.checkpoint().then(setCheckpoint, (e: unknown) => setError(message(e)));
  }, []);
  useEffect(load, [load]);

  function verify() {
    setVerifying(true);
    setVerifyError(null);
    oversight
      .verify()
      .then(
        (v) => {
          setResult(v);
          load();
        },
        (e: unknown) => setVerifyError(message(e)),
      )
      .finally(() => setVerifying(false));
  }

  return (
    <main className="audit-page">
      <h1>Audit log</h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="h-chain">
        <h2 id="h-chain">Chain</h2>
        {chain === null ? (
          <p aria-busy="true">Loading…</p>
        ) : (
          <dl className="facts">
            <dt>Entries</dt>
            <dd data-testid="chain-length">{chain.length}</dd>
            <dt>Head hash</dt>
            <dd>
              <Hash value={chain.head_hash} />
            </dd>
            <dt>Last check</dt>
            <dd data-testid="chain-health">
              {chain.health.state === 'unverified' && 'not verified yet by this gateway'}
              {chain.health.state === 'intact' && `intact (${chain.health.at === null ? '' : new Date(chain.health.at).toLocaleString()})`}
              {chain.health.state === 'tampered' && (
                <span className="error">
                  broken at entry {chain.health.first_bad_seq}: {chain.health.problem}
                </span>
              )}
            </dd>
          </dl>
        )}
      </section>
      <section aria-labelledby="h-checkpoint">
        <h2 id="h-checkpoint">Latest signed checkpoint</h2>
        {checkpoint === undefined && <p aria-busy="true">Loading…</p>}
        {checkpoint === null && <p className="muted">No checkpoint has been signed yet.</p>}
        {checkpoint && (
          <>
            <dl className="facts" data-testid="checkpoint">
              <dt>Covers</dt>
              <dd>entries 1 to {checkpoint.size}</dd>
              <dt>Head hash</dt>
              <dd>
                <Hash value={checkpoint.head_hash} />
              </dd>
              <dt>Signed</dt>
              <dd>
                {new Date(checkpoint.created_at).toLocaleString()} with key <code>{checkpoint.kid}</code>
              </dd>
            </dl>
            <details>
              <summary>The signed note</summary>
              <pre className="note">{checkpoint.note}</pre>
            </details>
          </>
        )}
      </section>
      <section aria-labelledby="h-verify">
        <h2 id="h-verify">Verify</h2>
        <p className="small muted">
          Walks the whole chain from genesis, checks every hash and link, the chain head and every signed checkpoint.
        </p>
        {isAdmin ? (
          <button type="button" className="primary" onClick={verify} disabled={verifying}>
            {verifying ? 'Verifying…' : 'Verify the chain now'}
          </button>
        ) : (
          <p className="muted">Only an admin can run a verification.</p>
        )}
        {verifyError && (
          <p className="error" role="alert">
            {verifyError}
          </p>
        )}
        {result && <Verification v={result} />}
      </section>
      <section aria-labelledby="h-export">
        <h2 id="h-export">Export</h2>
        <p className="small">
          The whole log as JSON lines, oldest first. Check it offline with{' '}
          <code>countersign audit verify --file countersign-audit.jsonl --checkpoint cp.txt --jwks jwks.json</code>.
        </p>
        <a className="button" href={oversight.exportUrl} download="countersign-audit.jsonl">
          Download the log
        </a>
      </section>
    </main>
  );
}
