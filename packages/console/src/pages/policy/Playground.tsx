import { type FormEvent, type ReactNode, useState } from 'react';
import { policyApi } from '../../api/policy.js';
import type { PlaygroundAction, PolicyEvaluation, PolicyReplay } from '../../api/policy-types.js';
import { SafeText } from '../../components/SafeText.js';
import { Link } from '../../router.js';
import { PolicyTabs, type Refusal, RefusalView, refusalOf } from './shared.js';

/** A JSON object typed into a field, or the reason it is not one. */
export function jsonObject(label: string, text: string): { value?: Record<string, unknown>; error?: string } {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `${label} is not valid JSON: ${(e as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: `${label} must be a JSON object ({…})` };
  return { value: v as Record<string, unknown> };
}

const EFFECT_TEXT = { allow: 'Allowed', deny: 'Denied', review: 'Needs review' } as const;

function Decision({ r }: { r: PolicyEvaluation }): ReactNode {
  const d = r.decision;
  return (
    <section
      aria-labelledby="decision-title"
      className={`outcome ${d.effect === 'allow' ? 'approved' : d.effect === 'deny' ? 'denied' : ''}`}
      data-testid="decision"
    >
      <h2 id="decision-title">
        {EFFECT_TEXT[d.effect]}
        {d.workflow !== null && ` (workflow ${d.workflow})`}
      </h2>
      <dl className="facts">
        <dt>Decided by</dt>
        <dd data-testid="decided-by">
          {r.matched === null ? (
            <>the policy default ({r.default_effect}): no rule matched</>
          ) : (
            <>
              rule <strong>{r.matched.name}</strong> (rule {r.matched.position}, the first that matched)
            </>
          )}
        </dd>
        {r.matched !== null && (
          <>
            <dt>Its condition</dt>
            <dd>
              <code>
                <SafeText value={r.matched.when} limit={2000} />
              </code>
            </dd>
          </>
        )}
        <dt>Reason</dt>
        <dd>{d.reason === null ? <span className="muted">none given</span> : <SafeText value={d.reason} limit={1000} />}</dd>
        {r.workflow !== null && (
          <>
            <dt>Workflow</dt>
            <dd>
              {r.workflow.name}: {r.workflow.stages} {r.workflow.stages === 1 ? 'stage' : 'stages'}
            </dd>
          </>
        )}
        <dt>Annotations</dt>
        <dd>{r.annotations_trusted ? 'trusted for this agent and resource' : 'not trusted (hints only)'}</dd>
        <dt>Policy</dt>
        <dd>
          {r.policy.source === 'active' ? `the active policy, version ${r.policy.version ?? '?'}` : 'the candidate below'}{' '}
          <code title={r.policy.hash}>{r.policy.hash.slice(0, 12)}</code>
        </dd>
      </dl>
      {d.errors.length > 0 && (
        <div className="banner warning" role="note">
          <p>Conditions that failed to evaluate (none of them allows):</p>
          <ul>
            {d.errors.map((e) => (
              <li key={`${e.rule}:${e.message}`}>
                <strong>{e.rule}</strong>: {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function ReplayResult({ r }: { r: PolicyReplay }): ReactNode {
  return (
    <section aria-labelledby="replay-title" data-testid="replay-result">
      <h2 id="replay-title">What would change</h2>
      <p data-testid="replay-summary">
        {r.scanned} {r.scanned === 1 ? 'action' : 'actions'} re-decided: {r.changed} would change, {r.unchanged} would not.
      </p>
      {r.transitions.length > 0 && (
        <table className="policy-table">
          <caption className="muted small">Outcomes before → after</caption>
          <thead>
            <tr>
              <th scope="col">Before</th>
              <th scope="col">After</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {r.transitions.map((t) => (
              <tr key={`${t.from}→${t.to}`}>
                <td>{t.from}</td>
                <td>{t.to}</td>
                <td>{t.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.items.length > 0 && (
        <ul className="replay-items" aria-label="Actions whose decision would change">
          {r.items.map((i) => (
            <li key={i.id} className="inbox-item">
              <Link to={`/actions/${i.id}`} className="inbox-link">
                <span className="inbox-tool">
                  <SafeText value={i.tool} limit={80} />
                </span>
                <span className="inbox-agent">
                  by <SafeText value={i.agent} limit={80} /> · {i.status}
                </span>
              </Link>
              <p className="small">
                was <strong>{i.before.effect}</strong> by rule <code>{i.before.rule}</code>
                {i.before.workflow !== null && ` (workflow ${i.before.workflow})`}, would be <strong>{i.after.effect}</strong> by rule{' '}
                <code>{i.after.rule}</code>
                {i.after.workflow !== null && ` (workflow ${i.after.workflow})`}
              </p>
            </li>
          ))}
        </ul>
      )}
      {r.truncated && <p className="muted small">Only the {r.items.length} newest changed actions are listed.</p>}
    </section>
  );
}

/** Try an action against the active policy or a candidate, and replay recent actions under the candidate. */
export function Playground(): ReactNode {
  const [tool, setTool] = useState('');
  const [args, setArgs] = useState('{}');
  const [resource, setResource] = useState('');
  const [agent, setAgent] = useState('');
  const [onBehalfOf, setOnBehalfOf] = useState('');
  const [purpose, setPurpose] = useState('');
  const [annotations, setAnnotations] = useState('');
  const [metadata, setMetadata] = useState('');
  const [useCandidate, setUseCandidate] = useState(false);
  const [candidate, setCandidate] = useState('');
  const [limit, setLimit] = useState('1000');
  const [result, setResult] = useState<PolicyEvaluation | null>(null);
  const [replay, setReplay] = useState<PolicyReplay | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [replayRefusal, setReplayRefusal] = useState<Refusal | null>(null);
  const [busy, setBusy] = useState(false);

  async function evaluate(e: FormEvent) {
    e.preventDefault();
    setResult(null);
    const parsed = [jsonObject('Arguments', args), jsonObject('Annotations', annotations), jsonObject('Metadata', metadata)];
    const bad = parsed.find((p) => p.error !== undefined);
    if (bad?.error) return setRefusal({ message: bad.error, issues: [] });
    const [a, ann, meta] = parsed;
    const action: PlaygroundAction = { tool: tool.trim() };
    if (a?.value) action.arguments = a.value;
    if (ann?.value) action.annotations = ann.value;
    if (meta?.value) action.metadata = meta.value;
    if (resource.trim()) action.resource = resource.trim();
    if (agent.trim()) action.agent = { name: agent.trim() };
    if (onBehalfOf.trim()) action.on_behalf_of = onBehalfOf.trim();
    if (purpose.trim()) action.purpose = purpose.trim();
    setBusy(true);
    try {
      setResult(await policyApi.evaluate({ action, ...(useCandidate ? { candidate } : {}) }));
      setRefusal(null);
    } catch (err) {
      setRefusal(refusalOf(err));
    } finally {
      setBusy(false);
    }
  }

  async function runReplay() {
    setReplay(null);
    setBusy(true);
    try {
      setReplay(await policyApi.replay({ candidate, limit: Number(limit) }));
      setReplayRefusal(null);
    } catch (err) {
      setReplayRefusal(refusalOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="policy-page">
      <h1>Policy playground</h1>
      <PolicyTabs at="playground" />
      <p className="muted small">Decides with the gateway's own policy engine. Nothing is created, stored or sent to anyone.</p>
      <form onSubmit={(e) => void evaluate(e)} className="playground">
        <fieldset>
          <legend>The action, as an agent would propose it</legend>
          <div className="playground-grid">
            <label>
              Tool
              <input value={tool} onChange={(e) => setTool(e.target.value)} required maxLength={256} />
            </label>
            <label>
              Agent name
              <input value={agent} onChange={(e) => setAgent(e.target.value)} maxLength={256} placeholder="playground" />
            </label>
            <label>
              Resource
              <input value={resource} onChange={(e) => setResource(e.target.value)} maxLength={2048} />
            </label>
            <label>
              On behalf of (email)
              <input type="email" value={onBehalfOf} onChange={(e) => setOnBehalfOf(e.target.value)} maxLength={320} />
            </label>
          </div>
          <label>
            Purpose
            <input value={purpose} onChange={(e) => setPurpose(e.target.value)} />
          </label>
          <label>
            Arguments (JSON object)
            <textarea className="policy-text" value={args} onChange={(e) => setArgs(e.target.value)} rows={4} spellCheck={false} />
          </label>
          <div className="playground-grid">
            <label>
              Annotations (JSON object, optional)
              <textarea
                className="policy-text"
                value={annotations}
                onChange={(e) => setAnnotations(e.target.value)}
                rows={2}
                spellCheck={false}
              />
            </label>
            <label>
              Metadata (JSON object, optional)
              <textarea
                className="policy-text"
                value={metadata}
                onChange={(e) => setMetadata(e.target.value)}
                rows={2}
                spellCheck={false}
              />
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>Decide with</legend>
          <label className="inline">
            <input type="radio" name="policy-source" checked={!useCandidate} onChange={() => setUseCandidate(false)} /> The active policy
          </label>
          <label className="inline">
            <input type="radio" name="policy-source" checked={useCandidate} onChange={() => setUseCandidate(true)} /> A candidate policy
            (below)
          </label>
        </fieldset>
        <RefusalView refusal={refusal} testId="evaluate-refused" />
        <button type="submit" className="primary" disabled={busy}>
          Evaluate
        </button>
      </form>
      {result && <Decision r={result} />}

      <section aria-labelledby="candidate-title">
        <h2 id="candidate-title">Candidate policy</h2>
        <label>
          Candidate policy document (YAML)
          <textarea className="policy-text" value={candidate} onChange={(e) => setCandidate(e.target.value)} rows={12} spellCheck={false} />
        </label>
        <div className="playground-grid">
          <label>
            Replay the latest actions (how many, up to 10,000)
            <input type="number" min={1} max={10000} value={limit} onChange={(e) => setLimit(e.target.value)} />
          </label>
        </div>
        <RefusalView refusal={replayRefusal} testId="replay-refused" />
        <button type="button" onClick={() => void runReplay()} disabled={busy || candidate.trim() === ''}>
          Replay under the candidate
        </button>
      </section>
      {replay && <ReplayResult r={replay} />}
    </main>
  );
}
