import {
  type ReadResourceResult,
  type Resource,
  ResourceNotFoundError,
  type ResourceTemplateType,
  UriTemplate,
} from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { type Ask, lacksMethod } from './passthrough-ask.js';
import type { Upstream } from './upstream.js';

interface Listing {
  resources: Resource[];
  templates: ResourceTemplateType[];
}

interface Merged<T> {
  items: T[];
  /** Keys listed by a later server too; that server's entry is hidden. */
  shadowed: { key: string; server: string; kept: string }[];
}

/**
 * Resources of every upstream as one list. URIs are never rewritten: they also appear inside
 * tool results and prompts (resource links, embedded resources), where the client reads them
 * back as they are. A URI is therefore routed to the server that lists it; failing that, to the
 * first server (in configured order) with a template that matches it. Two servers listing the
 * same URI would make a read ambiguous: the earlier server keeps it, the later one's entry is
 * hidden and a warning names both, the same "earlier server wins" rule tool names follow.
 */
export class ResourceRoutes {
  private readonly last = new Map<Upstream, Listing>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly ask: Ask,
    private readonly log: Logger,
  ) {}

  /** Every server's resources, each read in full (all pages) now, merged. */
  async list(signal?: AbortSignal): Promise<Resource[]> {
    await this.refreshAll('resources', signal);
    return this.merged().resources;
  }

  async listTemplates(signal?: AbortSignal): Promise<ResourceTemplateType[]> {
    await this.refreshAll('templates', signal);
    return this.merged().templates;
  }

  async read(uri: string, signal?: AbortSignal): Promise<ReadResourceResult> {
    const u = await this.resolve(uri, signal);
    return this.ask(u, 'resources/read', (c, o) => c.readResource({ uri }, { ...o, cacheMode: 'bypass' }), signal);
  }

  /**
   * The server a URI (or a template's URI, for completions) belongs to. With a single resource
   * server there is nobody else to ask: it gets every URI and answers for itself. With several,
   * an unknown URI makes the proxy read the lists again (the URI may be new, or come from a tool
   * result before any listing), and one still unknown is an error rather than a guess.
   */
  async resolve(uri: string, signal?: AbortSignal): Promise<Upstream> {
    const known = this.route(uri) ?? (this.upstreams.length === 1 ? this.upstreams[0] : undefined);
    if (known) return known;
    await Promise.all([this.refreshAll('resources', signal), this.refreshAll('templates', signal)]);
    const found = this.route(uri);
    if (!found) throw new ResourceNotFoundError(uri, `Resource ${uri} not found: no upstream server lists it or has a template for it`);
    return found;
  }

  /** Re-reads one server's lists (after it said they changed), keeping the old ones if that fails. */
  async refreshUpstream(u: Upstream): Promise<void> {
    if (!this.upstreams.includes(u)) return;
    await Promise.all([this.refreshOne(u, 'resources'), this.refreshOne(u, 'templates')]);
  }

  private route(uri: string): Upstream | undefined {
    for (const u of this.upstreams) if (this.last.get(u)?.resources.some((r) => r.uri === uri)) return u;
    for (const u of this.upstreams) {
      for (const t of this.last.get(u)?.templates ?? []) {
        if (t.uriTemplate === uri || matches(t.uriTemplate, uri)) return u;
      }
    }
    return undefined;
  }

  private async refreshAll(kind: keyof Listing, signal?: AbortSignal): Promise<void> {
    await Promise.all(this.upstreams.map((u) => this.refreshOne(u, kind, signal)));
  }

  /**
   * One server's list, every page. A server that fails keeps its last list, so one slow
   * server does not empty the listing or move URIs to another server.
   */
  private async refreshOne(u: Upstream, kind: keyof Listing, signal?: AbortSignal): Promise<void> {
    const entry = this.last.get(u) ?? { resources: [], templates: [] };
    this.last.set(u, entry);
    const bypass = { cacheMode: 'bypass' } as const;
    try {
      if (kind === 'resources') {
        const r = await this.ask(u, 'resources/list', (c, o) => c.listResources(undefined, { ...o, ...bypass }), signal);
        entry.resources = r.resources;
      } else {
        const r = await this.ask(u, 'resources/templates/list', (c, o) => c.listResourceTemplates(undefined, { ...o, ...bypass }), signal);
        entry.templates = r.resourceTemplates;
      }
    } catch (err) {
      if (lacksMethod(err)) entry[kind] = [];
      else if (!signal?.aborted) this.log.warn({ err, upstream: u.name }, `could not list ${kind}; using the last list`);
    }
  }

  private merged(): { resources: Resource[]; templates: ResourceTemplateType[] } {
    const lists = this.upstreams.map((u) => ({ server: u.name, listing: this.last.get(u) ?? { resources: [], templates: [] } }));
    const resources = mergeFirstWins(
      lists.map((l) => ({ server: l.server, items: l.listing.resources })),
      (r) => r.uri,
    );
    const templates = mergeFirstWins(
      lists.map((l) => ({ server: l.server, items: l.listing.templates })),
      (t) => t.uriTemplate,
    );
    for (const s of [...resources.shadowed, ...templates.shadowed]) {
      const key = `${s.server}\n${s.key}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.log.warn(
        { uri: s.key, upstream: s.server, kept: s.kept },
        `two upstream servers list ${s.key}: it is served by "${s.kept}" (earlier in the list), not "${s.server}"`,
      );
    }
    return { resources: resources.items, templates: templates.items };
  }
}

/** Merges per-server lists in order; an item whose key an earlier server already has is left out. Pure. */
export function mergeFirstWins<T>(lists: readonly { server: string; items: readonly T[] }[], key: (item: T) => string): Merged<T> {
  const owner = new Map<string, string>();
  const out: Merged<T> = { items: [], shadowed: [] };
  for (const { server, items } of lists) {
    for (const item of items) {
      const k = key(item);
      const kept = owner.get(k);
      if (kept === undefined) {
        owner.set(k, server);
        out.items.push(item);
      } else if (kept !== server) {
        out.shadowed.push({ key: k, server, kept });
      }
    }
  }
  return out;
}

/** Whether a URI fits an RFC 6570 template. A template that does not parse matches nothing. */
export function matches(template: string, uri: string): boolean {
  try {
    return new UriTemplate(template).match(uri) !== null;
  } catch {
    return false;
  }
}
