import type { ReactNode } from 'react';
import { ApiError } from '../../api/client.js';
import { Link } from '../../router.js';

/** A refusal in words: the gateway's message and, for a refused policy, every problem (rule, line and column). */
export interface Refusal {
  message: string;
  issues: { path: string; message: string }[];
}

export function refusalOf(e: unknown): Refusal {
  if (!(e instanceof ApiError)) return { message: 'The gateway cannot be reached.', issues: [] };
  if (e.status === 403) return { message: 'Only admins can see and change the policy.', issues: [] };
  if (e.issues.length > 0) return { message: e.message.split(': ')[0] ?? e.message, issues: e.issues };
  return { message: e.message, issues: [] };
}

export function RefusalView({ refusal, testId }: { refusal: Refusal | null; testId?: string }): ReactNode {
  if (refusal === null) return null;
  return (
    <div className="banner conflict" role="alert" data-testid={testId}>
      <p>{refusal.message}</p>
      {refusal.issues.length > 0 && (
        <ul className="policy-issues">
          {refusal.issues.map((i) => (
            <li key={`${i.path}:${i.message}`}>
              <code>{i.path}</code>: {i.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The two policy pages link to each other. */
export function PolicyTabs({ at }: { at: 'policy' | 'playground' }): ReactNode {
  return (
    <nav className="policy-tabs" aria-label="Policy pages">
      {at === 'policy' ? <span aria-current="page">Versions</span> : <Link to="/admin/policy">Versions</Link>}
      {at === 'playground' ? (
        <span aria-current="page">Playground and replay</span>
      ) : (
        <Link to="/admin/policy/playground">Playground and replay</Link>
      )}
    </nav>
  );
}

export function when(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

export const TRIGGER: Record<string, string> = {
  apply: 'applied',
  rollback: 'rolled back',
  start: 'seeded at start',
  reload: 'reloaded from file',
};
