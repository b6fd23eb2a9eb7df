import { Server } from '@modelcontextprotocol/server';
import { VERSION } from '../version.js';
import { callTool } from './call-tool.js';
import type { ProxyCore, Session } from './core.js';
import { readInputRequiredContext } from './input-required.js';
import { servePassthrough } from './passthrough-server.js';
import { ProgressReporter } from './progress.js';
import { STATUS_TOOL, WAIT_TOOL } from './results.js';
import { traceFromMeta } from './trace-meta.js';

const INSTRUCTIONS = [
  'Calls to these tools pass through Countersign: a call that changes something may wait for a person to approve it.',
  'If a call answers "NOT EXECUTED — pending approval <id>", nothing ran.',
  `Use ${STATUS_TOOL} or ${WAIT_TOOL} with that id, and once it is approved make the identical call again to run it once.`,
  'If a call answers that it was denied, do not try to get around the denial; tell the user the reason.',
].join(' ');

/**
 * A fresh low-level MCP server for one downstream connection (stdio, a 2025-era HTTP session) or
 * one 2026-07-28 HTTP request. All of them share the core; the server only translates requests.
 * The low-level `Server` is used on purpose: the tools are someone else's, described by JSON
 * Schema, and must pass through unchanged. `era` is the protocol era the instance will serve
 * (resource subscriptions exist only in the 2025 one).
 */
export function createDownstreamServer(core: ProxyCore, session: Session, era: 'legacy' | 'modern' = 'modern'): Server {
  const server = new Server(
    { name: 'countersign-mcp-proxy', version: VERSION },
    {
      capabilities: { tools: { listChanged: true } },
      instructions: INSTRUCTIONS,
      // The input_required state round-trips through the client: only our own signature is believed.
      requestState: { verify: (state, ctx) => core.stateCodec.verify(state, ctx) },
    },
  );
  servePassthrough(server, core.passthrough, session, era);
  server.setRequestHandler('tools/list', async () => ({ tools: await core.listTools() }));
  server.setRequestHandler('tools/call', async (req, ctx) => {
    const token = req.params._meta?.progressToken;
    const progress =
      token === undefined
        ? undefined
        : new ProgressReporter(
            token,
            (n) => ctx.mcpReq.notify(n),
            (err) => core.log.debug({ err }, 'progress notification not delivered'),
          );
    return callTool(core, {
      session,
      name: req.params.name,
      args: req.params.arguments ?? {},
      signal: ctx.mcpReq.signal,
      progress,
      review: readInputRequiredContext(ctx, core.settings.hold.inputRequired),
      trace: traceFromMeta(req.params._meta),
    });
  });
  return server;
}
