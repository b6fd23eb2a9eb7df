import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/client.js';

/** A refusal in words: the gateway's own message (conflicts, last admin, already revoked…), or why it failed. */
export function problem(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return 'The gateway cannot be reached.';
}

/** Loads once, and again on `reload()`; `error` is the refusal in words. */
export function useLoad<T>(load: () => Promise<T>): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `round` is the reload trigger; `load` is a fresh closure each render
  useEffect(() => {
    let live = true;
    load().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(null);
      },
      (e: unknown) => {
        if (live) setError(problem(e));
      },
    );
    return () => {
      live = false;
    };
  }, [round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, error, reload };
}

/**
 * What a write on these pages came to, in words: `run(act)` clears the last outcome, runs `act`, shows what
 * it returns as done (nothing when it returns null) or the refusal as failed, and reloads the list either way.
 */
export function useOutcome(reload: () => void): {
  failed: string | null;
  done: string | null;
  setFailed: (text: string | null) => void;
  run: (act: () => Promise<string | null>) => Promise<void>;
} {
  const [failed, setFailed] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = useCallback(
    async (act: () => Promise<string | null>) => {
      setFailed(null);
      setDone(null);
      try {
        const said = await act();
        if (said !== null) setDone(said);
      } catch (e) {
        setFailed(problem(e));
      } finally {
        reload();
      }
    },
    [reload],
  );
  return { failed, done, setFailed, run };
}

/** An error line read out as it appears. */
export function Alert({ text }: { text: string | null }): ReactNode {
  if (text === null) return null;
  return (
    <p className="error" role="alert">
      {text}
    </p>
  );
}

/**
 * A destructive action behind a question naming the thing: the first button asks, the second does it
 * (focused, so Enter confirms and Escape or "Cancel" backs out).
 */
export function Confirm({
  label,
  question,
  confirmLabel,
  onConfirm,
  className = 'danger',
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  className?: string;
}): ReactNode {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" className={className === 'danger' ? 'danger-outline' : className} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    // biome-ignore lint/a11y/useSemanticElements: a group of two buttons and their question, not a form field set
    <div className="confirm" role="group" aria-label={question} onKeyDown={(e) => e.key === 'Escape' && setAsking(false)}>
      <span className="confirm-question">{question}</span>
      <span className="confirm-buttons">
        <button
          ref={yes}
          type="button"
          className={className}
          disabled={busy}
          onClick={() => {
            setBusy(true);
            onConfirm().finally(() => {
              setBusy(false);
              setAsking(false);
            });
          }}
        >
          {confirmLabel}
        </button>
        <button type="button" disabled={busy} onClick={() => setAsking(false)}>
          Cancel
        </button>
      </span>
    </div>
  );
}

/** A secret shown once (a new API key, a reset link): copy it now, it is not shown again. */
export function OnceSecret({
  title,
  secret,
  note,
  onDone,
}: {
  title: string;
  secret: string;
  note: string;
  onDone: () => void;
}): ReactNode {
  const [copied, setCopied] = useState<string | null>(null);
  return (
    <section className="once-secret" aria-label={title} data-testid="once-secret">
      <h3>{title}</h3>
      <p className="small">{note}</p>
      <code className="secret" data-testid="secret">
        {secret}
      </code>
      <span className="once-buttons">
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(secret).then(
              () => setCopied('Copied.'),
              () => setCopied('Copying was refused by the browser: select the text and copy it.'),
            )
          }
        >
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </span>
      {copied && (
        <span className="small" role="status">
          {copied}
        </span>
      )}
    </section>
  );
}

/** What a non-admin sees at an administration address (the gateway refuses their calls all the same). */
export function AdminOnly(): ReactNode {
  return (
    <main>
      <h1>Admins only</h1>
      <p>Administration is for admins. Ask an admin of this gateway if you need a change to people, agents or keys.</p>
    </main>
  );
}
