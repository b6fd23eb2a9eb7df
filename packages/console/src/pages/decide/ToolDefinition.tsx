import type { ReactNode } from 'react';
import type { Action } from '../../api/types.js';
import { JsonView } from '../../components/JsonView.js';
import { SafeText } from '../../components/SafeText.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);

/** One side of a definition: its description as text, the rest as JSON. */
function DefinitionFields({ d, label }: { d: Obj; label: string }): ReactNode {
  return (
    <>
      {typeof d.description === 'string' && (
        <p className="tool-description">
          <SafeText value={d.description} limit={2048} />
        </p>
      )}
      {'annotations' in d && <JsonView value={d.annotations ?? null} label={`${label}: annotations`} />}
      {'input_schema' in d && (
        <>
          <h4>Input schema</h4>
          <JsonView value={d.input_schema ?? null} label={`${label}: input schema`} />
        </>
      )}
      {'output_schema' in d && (
        <>
          <h4>Output schema</h4>
          <JsonView value={d.output_schema ?? null} label={`${label}: output schema`} />
        </>
      )}
    </>
  );
}

/**
 * The MCP tool definition the call was proposed against (metadata.mcp.tool), and when the upstream's
 * definition no longer matches its pin, what changed (pinned vs current). Metadata is the proposing agent's
 * word, so it is labelled as what the MCP proxy declared.
 */
export function ToolDefinition({ a }: { a: Action }): ReactNode {
  const mcp = obj(a.metadata.mcp);
  if (!mcp) return null;
  const tool = obj(mcp.tool);
  const changed = obj(mcp.definition_changed);
  const fields = Array.isArray(changed?.fields) ? changed.fields.filter((f): f is string => typeof f === 'string') : [];
  const server = typeof mcp.server === 'string' ? mcp.server : null;
  return (
    <section className="tool-definition" aria-labelledby="tool-def-h">
      <h2 id="tool-def-h">MCP tool</h2>
      <p className="small muted">
        As declared by the MCP proxy <SafeText value={a.agent.name} limit={80} />
        {server !== null && (
          <>
            {' '}
            (server <SafeText value={server} limit={120} />)
          </>
        )}
        .
      </p>
      {typeof mcp.definition_unpinned === 'string' && (
        <p className="banner warning" data-testid="definition-unpinned">
          This tool’s definition is not pinned: <SafeText value={mcp.definition_unpinned} limit={400} />
        </p>
      )}
      {changed && (
        <div className="banner warning" data-testid="definition-changed">
          <p>
            <strong>The tool’s definition changed since it was pinned</strong>
            {typeof changed.pinned_at === 'string' && <> (pinned {new Date(changed.pinned_at).toLocaleString()})</>}:{' '}
            {fields.join(', ') || 'unknown fields'}.
          </p>
          <div className="definition-sides">
            {obj(changed.pinned) && (
              <details open>
                <summary>Pinned</summary>
                <DefinitionFields d={obj(changed.pinned) as Obj} label="Pinned definition" />
              </details>
            )}
            {obj(changed.current) && (
              <details open>
                <summary>Current</summary>
                <DefinitionFields d={obj(changed.current) as Obj} label="Current definition" />
              </details>
            )}
          </div>
        </div>
      )}
      {tool && (
        <details className="tool-def" data-testid="tool-definition">
          <summary>Definition and input schema</summary>
          <DefinitionFields d={tool} label="Tool definition" />
        </details>
      )}
    </section>
  );
}
