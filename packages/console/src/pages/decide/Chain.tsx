import { type ReactNode, useEffect, useState } from 'react';
import { decideApi } from '../../api/decide.js';
import type { Action } from '../../api/types.js';
import { SafeText } from '../../components/SafeText.js';
import { Link } from '../../router.js';

interface Node {
  a: Action;
  children: Node[];
}

/** The tree under a root from its flat list (parent_id links); actions whose parent is not in the list hang at the top. */
function build(items: Action[]): Node[] {
  const nodes = new Map(items.map((a) => [a.id, { a, children: [] as Node[] }]));
  const tops: Node[] = [];
  for (const n of [...nodes.values()].sort((x, y) => x.a.created_at.localeCompare(y.a.created_at) || x.a.id.localeCompare(y.a.id))) {
    const parent = n.a.parent_id === null ? undefined : nodes.get(n.a.parent_id);
    (parent ? parent.children : tops).push(n);
  }
  return tops;
}

function Branch({ nodes, current }: { nodes: Node[]; current: string }): ReactNode {
  return (
    <ul>
      {nodes.map((n) => (
        <li key={n.a.id}>
          {n.a.id === current ? (
            <strong aria-current="page">
              <SafeText value={n.a.tool} limit={80} /> (this action)
            </strong>
          ) : (
            <Link to={`/actions/${n.a.id}`}>
              <SafeText value={n.a.tool} limit={80} />
            </Link>
          )}{' '}
          <span className={`status ${n.a.status}`}>{n.a.status}</span>
          {n.children.length > 0 && <Branch nodes={n.children} current={current} />}
        </li>
      ))}
    </ul>
  );
}

/**
 * The subagent chain: the root of this action's parent_id chain, its descendants (this action's ancestors
 * and siblings among them), one request (GET /v1/actions?root_id=…). Shown only when there is a chain.
 */
export function Chain({ a }: { a: Action }): ReactNode {
  const root = a.root_id ?? a.id;
  const [items, setItems] = useState<Action[] | null>(null);
  useEffect(() => {
    let live = true;
    decideApi.tree(root).then(
      (l) => live && setItems(l.items),
      () => live && setItems(null),
    );
    return () => {
      live = false;
    };
  }, [root]);
  if (!items || items.length < 2) return null;
  return (
    <nav className="chain" aria-label="Subagent chain" data-testid="chain">
      <h2>Subagent chain</h2>
      {a.session_id !== null && (
        <p className="small muted">
          Session <SafeText value={a.session_id} limit={120} />
        </p>
      )}
      <Branch nodes={build(items)} current={a.id} />
    </nav>
  );
}
