import type { Tool } from '@modelcontextprotocol/client';
import { effectiveHints, type Hints, proposalMetadata } from './classify.js';
import { definitionOf, type PinState, type PinStore } from './pins.js';
import type { Upstream } from './upstream.js';

/** One tool as the downstream client sees it, and where it really lives. */
export interface CatalogueEntry {
  /** The name the client calls. */
  name: string;
  upstream: Upstream;
  /** The upstream's own definition (its own name). */
  tool: Tool;
  /** The hints that classify its calls: upstream's, operator overrides, or forced review after a pin change. */
  hints: Hints;
  pin: PinState;
  /** Fingerprint of the definition as listed now: an approval given under another one must not run against this. */
  fingerprint: string;
  /** The `mcp` metadata every proposal of this tool carries (classify.ts). */
  metadata: Readonly<Record<string, unknown>>;
}

/**
 * The merged tool list of every upstream. Names are kept as the upstream spells them; only a
 * name another upstream (earlier in the configured order) already uses, or one of the proxy's
 * own tools, gets the server's name as a prefix (`server__tool`). Adding a server therefore never
 * renames the tools of the servers before it.
 */
export class Catalogue {
  private constructor(private readonly byName: ReadonlyMap<string, CatalogueEntry>) {}

  /** Builds the catalogue from each upstream's last tool list, checking every definition against its pin. */
  static build(
    upstreams: readonly Upstream[],
    pins: PinStore,
    reserved: ReadonlySet<string>,
    now: Date,
    warn: (problem: string) => void,
  ): Catalogue {
    const names = assignNames(
      upstreams.map((u) => ({ server: u.name, tools: u.currentTools.map((t) => t.name) })),
      reserved,
    );
    const byName = new Map<string, CatalogueEntry>();
    for (const upstream of upstreams) {
      for (const tool of upstream.currentTools) {
        const name = names.get(upstream.name)?.get(tool.name);
        // A server listing one name twice: the first definition wins, as in any map.
        if (name === undefined || byName.has(name)) continue;
        const definition = definitionOf(tool);
        let pin: PinState;
        try {
          pin = pins.check(upstream.name, tool, now, definition);
        } catch (e) {
          // Fails closed for this tool alone: keeping the last catalogue instead would keep classifying
          // the other tools by definitions they may no longer have.
          pin = { changed: true, unpinned: (e as Error).message };
          warn(`${upstream.name}/${tool.name}: ${pin.unpinned}; its calls are held for review until it can be pinned`);
        }
        const entry = { name, upstream, tool, pin, fingerprint: definition.fingerprint, hints: effectiveHints(upstream.spec, tool, pin) };
        byName.set(name, { ...entry, metadata: proposalMetadata(entry) });
      }
    }
    return new Catalogue(byName);
  }

  lookup(name: string): CatalogueEntry | undefined {
    return this.byName.get(name);
  }

  get entries(): IterableIterator<CatalogueEntry> {
    return this.byName.values();
  }
}

/**
 * Exposed name per (server, upstream tool name). Pure, so the collision rule is easy to test.
 * One pass in configured order: a tool keeps its name unless an earlier server (or the proxy's
 * own tools) already took it, then it becomes `server__name` (`_2`, `_3`… should even that be
 * taken). A server's names therefore depend only on the servers before it.
 */
export function assignNames(
  lists: readonly { server: string; tools: readonly string[] }[],
  reserved: ReadonlySet<string>,
): Map<string, Map<string, string>> {
  const taken = new Set<string>(reserved);
  const out = new Map<string, Map<string, string>>();
  for (const { server, tools } of lists) {
    const mine = new Map<string, string>();
    for (const t of tools) {
      if (mine.has(t)) continue;
      let name = t;
      if (taken.has(name)) name = `${server}__${t}`;
      for (let n = 2; taken.has(name); n++) name = `${server}__${t}_${n}`;
      taken.add(name);
      mine.set(t, name);
    }
    out.set(server, mine);
  }
  return out;
}
