import { declaredInputSchema, schemaIssues } from '@countersign/sdk/edit-schema';
import { editableJson } from '@countersign/sdk/reveal';
import { type ReactNode, useId, useMemo, useState } from 'react';
import type { Action } from '../../api/types.js';
import { SafeText } from '../../components/SafeText.js';
import { type Change, diffJson } from './json-diff.js';
import { parseArguments } from './json-text.js';

/** A JSON value in a diff line: agent-written, so drawn as safe text. */
function Shown({ value }: { value: unknown }): ReactNode {
  return (
    <code>
      <SafeText value={JSON.stringify(value) ?? 'undefined'} limit={400} />
    </code>
  );
}

function ChangeLine({ c }: { c: Change }): ReactNode {
  return (
    <li className={`diff-${c.kind}`}>
      <code className="diff-path">
        <SafeText value={c.path} limit={200} />
      </code>{' '}
      {c.kind === 'added' && (
        <>
          <strong>added</strong>: <Shown value={c.to} />
        </>
      )}
      {c.kind === 'removed' && (
        <>
          <strong>removed</strong> (was <Shown value={c.from} />)
        </>
      )}
      {c.kind === 'changed' && (
        <>
          <strong>changed</strong>: <Shown value={c.from} /> → <Shown value={c.to} />
        </>
      )}
    </li>
  );
}

/**
 * Edit the arguments, then approve: a JSON text box checked as it is typed (syntax with line and column, and
 * the tool's declared input schema when the action carries one), then the changes path by path before the
 * approval is sent. Loaded on demand (it brings the schema validator).
 */
export default function EditArgs({
  action,
  busy,
  onApprove,
  onCancel,
}: {
  action: Action;
  busy: boolean;
  onApprove: (args: Record<string, unknown>) => void;
  onCancel: () => void;
}): ReactNode {
  const [text, setText] = useState(() => editableJson(action.arguments));
  const [reviewing, setReviewing] = useState(false);
  const problemsId = useId();
  const parsed = useMemo(() => parseArguments(text), [text]);
  const schema = useMemo(() => declaredInputSchema(action.metadata), [action.metadata]);
  const issues = useMemo(() => (parsed.ok && schema ? schemaIssues(schema, parsed.value) : []), [parsed, schema]);
  const changes = useMemo(() => (parsed.ok ? diffJson(action.arguments, parsed.value) : []), [parsed, action.arguments]);
  const valid = parsed.ok && (issues === null || issues.length === 0);

  if (reviewing && parsed.ok) {
    return (
      <section className="edit-args" aria-labelledby={`${problemsId}-h`}>
        <h3 id={`${problemsId}-h`}>Your changes to the arguments</h3>
        <ul className="diff" data-testid="edit-diff">
          {changes.map((c) => (
            <ChangeLine key={`${c.kind} ${c.path}`} c={c} />
          ))}
        </ul>
        <div className="edit-buttons">
          <button type="button" className="primary approve" disabled={busy} onClick={() => onApprove(parsed.value)}>
            Approve with these arguments
          </button>
          <button type="button" disabled={busy} onClick={() => setReviewing(false)}>
            Back to editing
          </button>
        </div>
      </section>
    );
  }
  return (
    <section className="edit-args" aria-labelledby={`${problemsId}-h`}>
      <h3 id={`${problemsId}-h`}>Edit the arguments</h3>
      <p className="small muted" data-testid="schema-source">
        {schema ? (
          <>
            Checked against the tool’s input schema as declared by the MCP proxy <SafeText value={action.agent.name} limit={80} /> (the
            agent’s word; the gateway checks it again).
          </>
        ) : issues === null ? (
          'The declared input schema cannot be used: only the JSON syntax is checked here.'
        ) : (
          'No input schema is known for this tool: only the JSON syntax is checked here.'
        )}
      </p>
      <label>
        Arguments (JSON)
        <textarea
          className="json-editor"
          value={text}
          rows={Math.min(20, Math.max(6, text.split('\n').length + 1))}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          aria-invalid={!valid}
          aria-describedby={problemsId}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <div id={problemsId} className="edit-problems" role="status" aria-live="polite" data-testid="edit-problems">
        {!parsed.ok && (
          <p className="error">
            {parsed.line !== null ? `Line ${parsed.line}, column ${parsed.column}: ` : ''}
            {parsed.message}
          </p>
        )}
        {parsed.ok && issues !== null && issues.length > 0 && (
          <div className="error">
            <p>These arguments do not match the tool’s input schema, so they cannot be approved:</p>
            <ul>
              {issues.map((i) => (
                <li key={`${i.path} ${i.message}`}>
                  <code>
                    <SafeText value={i.path} limit={200} />
                  </code>
                  : <SafeText value={i.message} limit={400} />
                </li>
              ))}
            </ul>
          </div>
        )}
        {valid && changes.length === 0 && <p className="muted">No changes yet.</p>}
      </div>
      <div className="edit-buttons">
        <button type="button" className="primary" disabled={busy || !valid || changes.length === 0} onClick={() => setReviewing(true)}>
          Review the changes
        </button>
        <button type="button" disabled={busy} onClick={onCancel}>
          Cancel editing
        </button>
      </div>
    </section>
  );
}
