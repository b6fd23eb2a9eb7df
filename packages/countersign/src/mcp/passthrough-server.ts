import type { CompleteRequest, CompleteResult, Server } from '@modelcontextprotocol/server';
import type { Session } from './core.js';
import type { Passthrough } from './passthrough.js';

const RESERVED_META_PREFIX = 'io.modelcontextprotocol/';

/**
 * Serves the upstreams' resources and prompts on one downstream server: declares what at least
 * one upstream has, and answers from the merged lists. No approval is involved (passthrough.ts
 * says why). Must run before the server connects, since capabilities are fixed at connect.
 */
export function servePassthrough(server: Server, p: Passthrough, session: Session, era: 'legacy' | 'modern'): void {
  const caps = p.capabilities(era);
  server.registerCapabilities(caps);
  if (caps.resources) {
    server.setRequestHandler('resources/list', async (_req, ctx) => ({ resources: await p.resources.list(ctx.mcpReq.signal) }));
    server.setRequestHandler('resources/templates/list', async (_req, ctx) => ({
      resourceTemplates: await p.resources.listTemplates(ctx.mcpReq.signal),
    }));
    server.setRequestHandler('resources/read', async (req, ctx) =>
      withoutHopMeta(await p.resources.read(req.params.uri, ctx.mcpReq.signal)),
    );
  }
  if (caps.resources?.subscribe) {
    server.setRequestHandler('resources/subscribe', async (req, ctx) => {
      const upstream = await p.resources.resolve(req.params.uri, ctx.mcpReq.signal);
      await p.subscriptions.subscribe(upstream, req.params.uri, session.id, (params) => server.sendResourceUpdated(params));
      return {};
    });
    server.setRequestHandler('resources/unsubscribe', async (req) => {
      await p.subscriptions.unsubscribe(req.params.uri, session.id);
      return {};
    });
  }
  if (caps.prompts) {
    server.setRequestHandler('prompts/list', async (_req, ctx) => ({ prompts: await p.prompts.list(ctx.mcpReq.signal) }));
    server.setRequestHandler('prompts/get', async (req, ctx) =>
      withoutHopMeta(await p.prompts.get(req.params.name, req.params.arguments, ctx.mcpReq.signal)),
    );
  }
  if (caps.completions) server.setRequestHandler('completion/complete', async (req, ctx) => complete(p, req.params, ctx.mcpReq.signal));
}

/**
 * Argument completion for a prompt or a resource template, asked of the server that owns it
 * (under the prompt's own name). A server without completions has no suggestions to offer.
 */
async function complete(p: Passthrough, params: CompleteRequest['params'], signal: AbortSignal): Promise<CompleteResult> {
  const none: CompleteResult = { completion: { values: [] } };
  const { ref } = params;
  if (ref.type === 'ref/prompt') {
    const entry = await p.prompts.resolve(ref.name, signal);
    if (!entry.upstream.capabilities.completions) return none;
    const forwarded = { ...params, ref: { ...ref, name: entry.prompt.name } };
    return p.ask(entry.upstream, 'completion/complete', (c, o) => c.complete(forwarded, o), signal);
  }
  const upstream = await p.resources.resolve(ref.uri, signal);
  if (!upstream.capabilities.completions) return none;
  return p.ask(upstream, 'completion/complete', (c, o) => c.complete(params, o), signal);
}

/** Protocol-reserved `_meta` keys describe the upstream hop (its identity, its revision); they are not ours to repeat. */
function withoutHopMeta<T extends { _meta?: Record<string, unknown> | undefined }>(result: T): T {
  if (!result._meta) return result;
  const meta = Object.entries(result._meta).filter(([k]) => !k.startsWith(RESERVED_META_PREFIX));
  const { _meta, ...rest } = result;
  return (meta.length > 0 ? { ...rest, _meta: Object.fromEntries(meta) } : rest) as T;
}
