import { type GetPromptResult, type Prompt, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { assignNames } from './catalogue.js';
import { type Ask, lacksMethod } from './passthrough-ask.js';
import type { Upstream } from './upstream.js';

/** A prompt as the client names it, and where it really lives. */
export interface PromptEntry {
  name: string;
  upstream: Upstream;
  /** The upstream's own definition (its own name). */
  prompt: Prompt;
}

/**
 * Prompts of every upstream as one list, named the way tools are (catalogue.ts's assignNames):
 * a prompt keeps its name unless a server earlier in the configured order already uses it; then
 * it becomes `server__name`. The proxy has no prompts of its own, so nothing else is reserved.
 */
export class PromptRoutes {
  private readonly last = new Map<Upstream, Prompt[]>();
  private byName = new Map<string, PromptEntry>();

  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly ask: Ask,
    private readonly log: Logger,
  ) {}

  /** Every server's prompts, each read in full (all pages) now, under their exposed names. */
  async list(signal?: AbortSignal): Promise<Prompt[]> {
    await Promise.all(this.upstreams.map((u) => this.refreshOne(u, signal)));
    return [...this.byName.values()].map((e) => ({ ...e.prompt, name: e.name }));
  }

  async get(name: string, args: Record<string, string> | undefined, signal?: AbortSignal): Promise<GetPromptResult> {
    const entry = await this.resolve(name, signal);
    const params = { name: entry.prompt.name, ...(args ? { arguments: args } : {}) };
    return this.ask(entry.upstream, 'prompts/get', (c, o) => c.getPrompt(params, o), signal);
  }

  /** The prompt an exposed name refers to; the lists are read again once if the name is unknown. */
  async resolve(name: string, signal?: AbortSignal): Promise<PromptEntry> {
    if (!this.byName.has(name)) await Promise.all(this.upstreams.map((u) => this.refreshOne(u, signal)));
    const entry = this.byName.get(name);
    if (!entry) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Prompt "${name}" not found on any upstream server`);
    return entry;
  }

  /** Re-reads one server's prompts (after it said they changed), keeping the old list if that fails. */
  async refreshUpstream(u: Upstream): Promise<void> {
    if (this.upstreams.includes(u)) await this.refreshOne(u);
  }

  private async refreshOne(u: Upstream, signal?: AbortSignal): Promise<void> {
    try {
      const r = await this.ask(u, 'prompts/list', (c, o) => c.listPrompts(undefined, { ...o, cacheMode: 'bypass' }), signal);
      this.last.set(u, r.prompts);
    } catch (err) {
      if (lacksMethod(err)) this.last.set(u, []);
      else if (!signal?.aborted) this.log.warn({ err, upstream: u.name }, 'could not list prompts; using the last list');
    }
    this.byName = this.build();
  }

  private build(): Map<string, PromptEntry> {
    const lists = this.upstreams.map((u) => ({ upstream: u, prompts: this.last.get(u) ?? [] }));
    const names = assignNames(
      lists.map((l) => ({ server: l.upstream.name, tools: l.prompts.map((p) => p.name) })),
      new Set(),
    );
    const byName = new Map<string, PromptEntry>();
    for (const { upstream, prompts } of lists) {
      for (const prompt of prompts) {
        const name = names.get(upstream.name)?.get(prompt.name);
        // A server listing one name twice: the first definition wins.
        if (name !== undefined && !byName.has(name)) byName.set(name, { name, upstream, prompt });
      }
    }
    return byName;
  }
}
