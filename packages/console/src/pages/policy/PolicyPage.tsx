import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError } from '../../api/client.js';
import { policyApi } from '../../api/policy.js';
import type { ActivePolicy, PolicyDocument, PolicyVersion } from '../../api/policy-types.js';
import { SafeText } from '../../components/SafeText.js';
import { Link } from '../../router.js';
import { PolicyTabs, type Refusal, RefusalView, refusalOf, TRIGGER, when } from './shared.js';

/** Policy documents can be long; the whole text is one click away. */
const DOC_LIMIT = 20_000;

function VersionFacts({ v }: { v: PolicyVersion }): ReactNode {
  return (
    <dl className="facts">
      <dt>Version</dt>
      <dd>
        {v.version} {v.active && <span className="badge">active</span>}
      </dd>
      <dt>Applied by</dt>
      <dd>
        <SafeText value={v.applied_by.label} limit={200} /> ({TRIGGER[v.trigger] ?? v.trigger}
        {v.restored_from !== null && ` from version ${v.restored_from}`})
      </dd>
      <dt>When</dt>
      <dd>
        <time dateTime={v.applied_at}>{when(v.applied_at)}</time>
      </dd>
      <dt>Note</dt>
      <dd>{v.note === null ? <span className="muted">none</span> : <SafeText value={v.note} limit={1000} />}</dd>
      <dt>Hash</dt>
      <dd>
        <code title={v.hash}>{v.hash.slice(0, 16)}</code>
      </dd>
    </dl>
  );
}

function DocumentText({ text, label }: { text: string; label: string }): ReactNode {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
    <section className="policy-doc" aria-label={label} tabIndex={0}>
      <pre>
        <SafeText value={text} limit={DOC_LIMIT} />
      </pre>
    </section>
  );
}

/** Confirms a rollback in place: nothing is sent until the admin says so. */
function Rollback({
  target,
  active,
  onDone,
  onCancel,
}: {
  target: PolicyVersion;
  active: number;
  onDone: (message: string) => void;
  onCancel: () => void;
}): ReactNode {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  async function confirm(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await policyApi.rollback({
        version: target.version,
        expected_version: active,
        ...(note.trim() ? { note: note.trim() } : {}),
      });
      onDone(
        r.changed
          ? `Version ${target.version}'s document is active again, as version ${r.version.version}.`
          : `Version ${target.version}'s document is already the active policy; nothing was written.`,
      );
    } catch (err) {
      setRefusal(
        err instanceof ApiError && err.status === 409
          ? { message: 'Someone changed the policy meanwhile: nothing was rolled back. Check the new version first.', issues: [] }
          : refusalOf(err),
      );
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="policy-confirm" onSubmit={(e) => void confirm(e)} aria-labelledby="rollback-title">
      <h3 id="rollback-title">
        Roll back to version {target.version}? Its document becomes the active policy as a new version, for every new proposal.
      </h3>
      <label>
        Note for the history (optional)
        <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={1000} />
      </label>
      <RefusalView refusal={refusal} />
      <div className="policy-buttons">
        <button type="submit" className="danger" disabled={busy}>
          Confirm rollback to version {target.version}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Apply a new version from text; a refusal lists every problem with its rule, line and column. */
function Apply({ active, onDone }: { active: ActivePolicy; onDone: (message: string) => void }): ReactNode {
  const [text, setText] = useState(active.document);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setRefusal(null);
    try {
      const r = await policyApi.apply({ document: text, expected_version: active.version, ...(note.trim() ? { note: note.trim() } : {}) });
      setNote('');
      onDone(r.changed ? `Version ${r.version.version} is active.` : 'That document compiles to the active policy; nothing was written.');
    } catch (err) {
      setRefusal(
        err instanceof ApiError && err.status === 409
          ? { message: 'Someone changed the policy meanwhile: nothing was applied. Check the new version, then apply again.', issues: [] }
          : refusalOf(err),
      );
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={(e) => void submit(e)} className="policy-apply">
      <label>
        Policy document (YAML, with policy: and workflows:)
        <textarea className="policy-text" value={text} onChange={(e) => setText(e.target.value)} rows={16} spellCheck={false} />
      </label>
      <label>
        Note for the history (optional)
        <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={1000} />
      </label>
      <RefusalView refusal={refusal} testId="apply-refused" />
      <button type="submit" className="primary" disabled={busy}>
        Apply as a new version
      </button>
    </form>
  );
}

export function PolicyPage(): ReactNode {
  const [active, setActive] = useState<ActivePolicy | null>(null);
  const [versions, setVersions] = useState<PolicyVersion[]>([]);
  const [viewing, setViewing] = useState<PolicyDocument | null>(null);
  const [confirming, setConfirming] = useState<PolicyVersion | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [generation, setGeneration] = useState(0);

  const load = useCallback(() => {
    Promise.all([policyApi.active(), policyApi.versions()]).then(
      ([a, v]) => {
        setActive(a);
        setVersions(v.items);
        setRefusal(null);
      },
      (e: unknown) => setRefusal(refusalOf(e)),
    );
  }, []);
  useEffect(load, [load]);

  const changed = (message: string) => {
    setDone(message);
    setConfirming(null);
    setViewing(null);
    setGeneration((g) => g + 1);
    load();
  };

  const view = (n: number) => {
    policyApi.version(n).then(
      (d) => {
        setViewing(d);
        setConfirming(null);
      },
      (e: unknown) => setRefusal(refusalOf(e)),
    );
  };

  if (!active) {
    return (
      <main aria-busy={refusal === null}>
        <h1>Policy</h1>
        {refusal ? <RefusalView refusal={refusal} /> : <p>Loading…</p>}
      </main>
    );
  }
  return (
    <main className="policy-page">
      <h1>Policy</h1>
      <PolicyTabs at="policy" />
      {done && (
        <p className="banner" role="status" data-testid="policy-done">
          {done}
        </p>
      )}
      <RefusalView refusal={refusal} />
      <section aria-labelledby="active-title">
        <h2 id="active-title">Active policy: version {active.version}</h2>
        <VersionFacts v={active} />
        {active.serving.version !== active.version && (
          <p className="muted small">
            This gateway still decides with version {active.serving.version ?? 'none'}; it follows within a second.
          </p>
        )}
        <DocumentText text={active.document} label={`Version ${active.version} document`} />
      </section>

      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <ol className="policy-history" data-testid="policy-history">
          {versions.map((v) => (
            <li key={v.version} className={v.active ? 'active' : undefined}>
              <div className="policy-version-line">
                <strong>Version {v.version}</strong> {v.active && <span className="badge">active</span>}{' '}
                <span className="muted small">
                  {TRIGGER[v.trigger] ?? v.trigger}
                  {v.restored_from !== null && ` from version ${v.restored_from}`} by <SafeText value={v.applied_by.label} limit={120} />,{' '}
                  <time dateTime={v.applied_at}>{when(v.applied_at)}</time>
                </span>
              </div>
              {v.note !== null && (
                <p className="small">
                  <SafeText value={v.note} limit={300} />
                </p>
              )}
              <div className="policy-buttons">
                <button type="button" onClick={() => view(v.version)} aria-label={`View version ${v.version}`}>
                  View
                </button>
                {!v.active && (
                  <button
                    type="button"
                    onClick={() => {
                      setConfirming(v);
                      setDone(null);
                    }}
                    aria-label={`Roll back to version ${v.version}`}
                  >
                    Roll back…
                  </button>
                )}
              </div>
              {confirming?.version === v.version && (
                <Rollback target={v} active={active.version} onDone={changed} onCancel={() => setConfirming(null)} />
              )}
            </li>
          ))}
        </ol>
      </section>

      {viewing && (
        <section aria-labelledby="viewing-title" data-testid="policy-viewing">
          <h2 id="viewing-title">Version {viewing.version}</h2>
          <VersionFacts v={viewing} />
          <DocumentText text={viewing.document} label={`Version ${viewing.version} document`} />
          <button type="button" onClick={() => setViewing(null)}>
            Close version {viewing.version}
          </button>
        </section>
      )}

      <section aria-labelledby="apply-title">
        <h2 id="apply-title">Apply a new version</h2>
        <p className="muted small">
          The document is compiled first and refused whole if any rule or stage is wrong. Try it in the{' '}
          <Link to="/admin/policy/playground">playground</Link> before applying.
        </p>
        <Apply key={`${active.version}:${generation}`} active={active} onDone={changed} />
      </section>
    </main>
  );
}
