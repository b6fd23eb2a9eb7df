import { type FormEvent, type ReactNode, useId, useMemo, useState } from 'react';
import type { GrantRequest, ReviewSettings } from '../../api/decide-types.js';
import type { Action } from '../../api/types.js';
import { SafeText } from '../../components/SafeText.js';
import { grantWords, shortJson } from './grant-words.js';

const DURATIONS: { text: string; label: string; ms: number }[] = [
  { text: '15m', label: '15 minutes', ms: 900_000 },
  { text: '1h', label: '1 hour', ms: 3_600_000 },
  { text: '4h', label: '4 hours', ms: 14_400_000 },
  { text: '8h', label: '8 hours', ms: 28_800_000 },
  { text: '1d', label: '1 day', ms: 86_400_000 },
  { text: '7d', label: '7 days', ms: 604_800_000 },
];
const MAX_CONSTRAINT_KEYS = 20;

/**
 * "Approve and allow similar…": the standing grant's scope (this agent, or only this session), which argument
 * values must stay the same, how many times and for how long, said in one sentence before it is confirmed.
 * The gateway bounds it (grants.max_duration, grants.max_uses) and refuses a grant broader than the
 * reviewer's own authority.
 */
export function GrantForm({
  action,
  settings,
  busy,
  onConfirm,
  onCancel,
}: {
  action: Action;
  settings: ReviewSettings | null;
  busy: boolean;
  onConfirm: (g: GrantRequest) => void;
  onCancel: () => void;
}): ReactNode {
  const id = useId();
  const maxUses = settings?.grants.max_uses ?? 1000;
  const durations = DURATIONS.filter((d) => d.ms <= (settings?.grants.max_duration_ms ?? 86_400_000));
  const keys = useMemo(() => Object.keys(action.arguments).slice(0, MAX_CONSTRAINT_KEYS), [action.arguments]);
  const [scope, setScope] = useState<'agent' | 'session'>('agent');
  const [kept, setKept] = useState<Set<string>>(() => new Set(keys));
  const [uses, setUses] = useState(String(Math.min(5, maxUses)));
  const [duration, setDuration] = useState(durations.find((d) => d.text === '1h')?.text ?? durations[0]?.text ?? '15m');
  const n = Number(uses);
  const usesOk = Number.isInteger(n) && n >= 1 && n <= maxUses;
  const chosen = durations.find((d) => d.text === duration) ?? DURATIONS[0];
  const constraints = Object.fromEntries(keys.filter((k) => kept.has(k)).map((k) => [k, action.arguments[k]]));
  const sentence = grantWords(
    {
      tool: action.tool,
      agent: action.agent.name,
      session: scope === 'session' ? action.session_id : null,
      constraints,
      maxUses: usesOk ? n : null,
      expiresInMs: chosen?.ms ?? 3_600_000,
    },
    new Date(),
  );
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!usesOk) return;
    onConfirm({ scope, expires_in: duration, max_uses: n, match: { arguments: constraints } });
  }
  return (
    <form className="grant-form" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Approve, and allow similar actions</h3>
      <fieldset>
        <legend>From</legend>
        <label>
          <input type="radio" name="grant-scope" checked={scope === 'agent'} onChange={() => setScope('agent')} />
          agent <SafeText value={action.agent.name} limit={80} />, any session
        </label>
        <label>
          <input
            type="radio"
            name="grant-scope"
            checked={scope === 'session'}
            disabled={action.session_id === null}
            onChange={() => setScope('session')}
          />
          only this session{action.session_id === null ? ' (the action has none)' : ''}
        </label>
      </fieldset>
      {keys.length > 0 && (
        <fieldset>
          <legend>Only when these arguments are the same</legend>
          {keys.map((k) => (
            <label key={k}>
              <input
                type="checkbox"
                checked={kept.has(k)}
                onChange={(e) => {
                  const next = new Set(kept);
                  if (e.target.checked) next.add(k);
                  else next.delete(k);
                  setKept(next);
                }}
              />
              <code>
                <SafeText value={`${k} = ${shortJson(action.arguments[k])}`} limit={120} />
              </code>
            </label>
          ))}
        </fieldset>
      )}
      <div className="grant-bounds">
        <label>
          How many times
          <input type="number" min={1} max={maxUses} value={uses} onChange={(e) => setUses(e.target.value)} aria-invalid={!usesOk} />
        </label>
        <label>
          For how long
          <select value={duration} onChange={(e) => setDuration(e.target.value)}>
            {durations.map((d) => (
              <option key={d.text} value={d.text}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {!usesOk && <p className="error">Choose a number of times from 1 to {maxUses}.</p>}
      <p className="grant-words" data-testid="grant-words">
        Approve this action, and allow <SafeText value={sentence} limit={2000} />.
      </p>
      <div className="edit-buttons">
        <button type="submit" className="primary approve" disabled={busy || !usesOk}>
          Approve and allow similar
        </button>
        <button type="button" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
