import { type FormEvent, type ReactNode, useCallback, useEffect, useId, useState } from 'react';
import { ApiError } from '../../api/client.js';
import { decideApi } from '../../api/decide.js';
import type { Batch, BatchReviewResult, ReviewSettings } from '../../api/decide-types.js';
import type { StepUpDetails } from '../../api/types.js';
import { JsonView } from '../../components/JsonView.js';
import { SafeText } from '../../components/SafeText.js';
import { useLive } from '../../live.js';
import { Link } from '../../router.js';
import { stepUpText } from '../decide.js';

/** Why the gateway refused the whole batch vote, in words (nothing was decided). */
export function batchRefusal(e: unknown): string {
  if (e instanceof ApiError && e.code === 'step_up_required') {
    // The batch lists each refused action with its single review's refusal (details.refused).
    const refused = Array.isArray(e.details?.refused) ? (e.details.refused as { details?: StepUpDetails }[]) : [];
    const d = refused[0]?.details ?? ((e.details ?? {}) as StepUpDetails);
    const need = d.step_up ? stepUpText(d.step_up.max_age_ms) : 'A stage of one of these actions needs a recent strong sign-in';
    return `Nothing was decided. ${need}: open one of the actions and confirm it is you, then decide the batch again.`;
  }
  if (e instanceof ApiError) return `Nothing was decided: ${e.message}.`;
  return 'The gateway cannot be reached; nothing was decided.';
}

/**
 * Actions an agent proposed together (one batch_id): every call shown, then one decision for all the
 * pending ones (POST /v1/batches/:id/reviews). Each vote is judged as a single review; what refused one
 * (decided meanwhile, already voted) is listed in words beside it.
 */
export function BatchPanel({
  batchId,
  current,
  settings,
}: {
  batchId: string;
  current?: string;
  settings?: ReviewSettings | null;
}): ReactNode {
  const id = useId();
  const [batch, setBatch] = useState<Batch | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<BatchReviewResult | null>(null);
  const [reason, setReason] = useState('');
  const load = useCallback(() => {
    decideApi.batch(batchId).then(setBatch, (e: unknown) => setError(e instanceof ApiError ? e.message : 'The gateway cannot be reached.'));
  }, [batchId]);
  useEffect(load, [load]);
  useLive(load);

  async function decideAll(decision: 'approve' | 'deny') {
    setBusy(true);
    setError(null);
    setResults(null);
    try {
      const r = reason.trim();
      setResults(await decideApi.reviewBatch(batchId, { decision, ...(decision === 'deny' && r ? { reason: r } : {}) }));
      load();
    } catch (e) {
      setError(batchRefusal(e));
    } finally {
      setBusy(false);
    }
  }
  function deny(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    void decideAll('deny');
  }
  if (!batch) return error ? <p className="error">{error}</p> : null;
  const pending = batch.actions.filter((x) => x.status === 'pending').length;
  const byId = new Map(results?.results.map((r) => [r.id, r]) ?? []);
  return (
    <section className="batch" aria-labelledby={`${id}-h`} data-testid="batch">
      <h2 id={`${id}-h`}>
        Proposed together: {batch.actions.length} call{batch.actions.length === 1 ? '' : 's'}
        {pending > 0 ? `, ${pending} pending` : ', all decided'}
      </h2>
      <ol className="batch-calls">
        {batch.actions.map((x) => {
          const r = byId.get(x.id);
          return (
            <li key={x.id} data-action-id={x.id}>
              <details>
                <summary>
                  {x.id === current ? (
                    <strong>
                      <SafeText value={x.tool} limit={80} /> (this action)
                    </strong>
                  ) : (
                    <SafeText value={x.tool} limit={80} />
                  )}{' '}
                  <span className={`status ${x.status}`}>{x.status}</span>
                </summary>
                <JsonView value={x.arguments} label={`Arguments of call ${x.tool}`} />
                {x.id !== current && <Link to={`/actions/${x.id}`}>Open this call</Link>}
              </details>
              {r && !r.ok && r.error && (
                <p className="small error" data-testid="batch-refused">
                  Not decided: <SafeText value={r.error.message} limit={400} />
                </p>
              )}
            </li>
          );
        })}
      </ol>
      {pending > 0 && (
        <div className="batch-decide">
          <button type="button" className="primary approve" disabled={busy} onClick={() => void decideAll('approve')}>
            Approve all {pending} pending
          </button>
          <form onSubmit={deny} className="deny">
            <div className="deny-reason">
              {settings && settings.deny_reasons.length > 0 && (
                <label>
                  Common reasons
                  <select value="" onChange={(e) => e.target.value && setReason(e.target.value)}>
                    <option value="">Choose one to fill in the reason…</option>
                    {settings.deny_reasons.map((p) => (
                      <option key={p} value={p}>
                        {p}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              <label>
                Reason for denying the whole batch
                <textarea rows={2} maxLength={4096} value={reason} onChange={(e) => setReason(e.target.value)} />
              </label>
            </div>
            <button type="submit" className="danger" disabled={busy}>
              Deny all {pending} pending
            </button>
          </form>
        </div>
      )}
      {results && (
        <p role="status" data-testid="batch-result">
          {results.results.filter((r) => r.ok).length} of {results.results.length} votes recorded
          {results.results.some((r) => !r.ok) ? '; the others are marked above.' : '.'}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
