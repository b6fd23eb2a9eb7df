import { call, review, type World } from '../../countersign/test/helpers.js';
import type { Action } from '../src/index.js';

/** Decides the next pending action for `tool` (whose arguments match `which`) as a reviewer would, once it shows up. */
export async function decideWhenPending(
  w: World,
  tool: string,
  decision: Record<string, unknown>,
  which: (args: Record<string, unknown>) => boolean = () => true,
): Promise<Action> {
  for (;;) {
    const list = await call(w, 'GET', `/v1/actions?status=pending&tool=${tool}`, w.keys.alice);
    const a = (list.body.items as Action[]).find((x) => which(x.arguments));
    if (a) return (await review(w, a.id, w.keys.alice, decision)).body;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every action proposed for `tool`, newest first. */
export async function actionsFor(w: World, tool: string): Promise<Action[]> {
  return (await call(w, 'GET', `/v1/actions?tool=${tool}`, w.keys.alice)).body.items as Action[];
}
