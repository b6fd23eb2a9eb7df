import { type ReactNode, useEffect, useState } from 'react';
import { ApiError } from '../../api/client.js';
import { oversight } from '../../api/oversight.js';
import type { AuditEntry } from '../../api/oversight-types.js';
import { SafeText } from '../../components/SafeText.js';

/** Who an entry names as its actor: the person or agent the entry's data names, else the stored actor. */
function actorOf(e: AuditEntry): string {
  const by = e.data.by;
  if (typeof by === 'string') return by;
  return e.actor_id === null ? e.actor_type : `${e.actor_type} ${e.actor_id}`;
}

/** An action's life as the audit log recorded it, oldest first (GET /v1/audit?action=). */
export function Timeline({ actionId }: { actionId: string }): ReactNode {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    oversight.timeline(actionId).then(
      (l) => setEntries(l.items),
      (e: unknown) => setError(e instanceof ApiError ? e.message : 'The gateway cannot be reached.'),
    );
  }, [actionId]);
  if (error) {
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  }
  if (!entries) return <p aria-busy="true">Loading the timeline…</p>;
  if (entries.length === 0) return <p className="muted">The audit log has no entries for this action.</p>;
  return (
    <ol className="timeline" aria-label="Audit timeline">
      {entries.map((e) => (
        <li key={e.seq} data-testid="timeline-entry">
          <span className="timeline-event">{e.event}</span>{' '}
          <span className="muted small">
            #{e.seq} · {new Date(e.ts).toLocaleString()} ·{' '}
          </span>
          <span className="small">
            <SafeText value={actorOf(e)} limit={120} />
          </span>
          {typeof e.data.reason === 'string' && (
            <span className="small">
              {' '}
              — “<SafeText value={e.data.reason} limit={300} />”
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}
