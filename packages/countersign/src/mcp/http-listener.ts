import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
} from '@modelcontextprotocol/server';
import type { ProxyCore, Session } from './core.js';
import { createDownstreamServer } from './downstream.js';
import { LegacySessions } from './legacy-sessions.js';
import { sendWebResponse, toWebRequest } from './node-web.js';
import type { ListenSettings } from './settings.js';

export const MCP_PATH = '/mcp';

export interface HttpListener {
  /** The MCP endpoint, e.g. http://127.0.0.1:8711/mcp. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the proxy over Streamable HTTP at `/mcp`, to clients of either protocol era: 2026-07-28
 * requests are stateless (a server instance per request, via the SDK's handler), 2025-era
 * clients get sessions (so their cancellations and list_changed notifications reach them).
 * Every request must carry the bearer token; on a loopback address the Host and Origin headers
 * must be local too, so a web page cannot reach the proxy through DNS rebinding.
 */
export async function listenHttp(core: ProxyCore, l: ListenSettings): Promise<HttpListener> {
  const onerror = (err: Error) => core.log.debug({ err }, 'MCP HTTP serving error');
  // Stateless requests have no session: the whole listener is their scope of "identical call".
  const statelessSession: Session = { id: `mcp-http-${randomUUID()}` };
  const modern = createMcpHandler(() => createDownstreamServer(core, statelessSession), { legacy: 'reject', onerror });
  const legacy = new LegacySessions(core);
  const unsubscribe = core.onToolsChanged(() => {
    modern.notify.toolsChanged();
    legacy.toolsChanged();
  });
  const unsubscribeLists = core.passthrough.onListChanged((kind) => {
    if (kind === 'resources') modern.notify.resourcesChanged();
    else modern.notify.promptsChanged();
    legacy.listChanged(kind);
  });
  const guard = requestGuard(l);
  const server = createServer((req, res) => {
    serve(req, res).catch((err) => {
      core.log.error({ err }, 'MCP HTTP request failed');
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    });
  });
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== MCP_PATH) return plain(res, 404, `not found; the MCP endpoint is ${MCP_PATH}`);
    if (!bearerMatches(req.headers.authorization, l.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="countersign-mcp-proxy"');
      return plain(res, 401, 'missing or wrong bearer token');
    }
    const request = toWebRequest(req, res);
    const refused = guard(request);
    if (refused) return sendWebResponse(refused, res);
    const response = (await isLegacyRequest(request)) ? await legacy.handle(request) : await modern.fetch(request);
    await sendWebResponse(response, res);
  }
  server.listen(l.port, l.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  const { port } = server.address() as AddressInfo;
  const host = l.host.includes(':') ? `[${l.host}]` : l.host;
  return {
    url: `http://${host}:${port}${MCP_PATH}`,
    async close() {
      unsubscribe();
      unsubscribeLists();
      await legacy.closeAll();
      await modern.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Constant-time comparison of `Authorization: Bearer <token>` (hashed first, so lengths leak nothing). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Host/Origin checks for a loopback listener (plus any configured names); none otherwise unless names are configured. */
function requestGuard(l: ListenSettings): (request: Request) => Response | undefined {
  const loopback = LOOPBACK.has(l.host);
  if (!loopback && l.allowedHosts.length === 0) return () => undefined;
  const hosts = [...(loopback ? localhostAllowedHostnames() : []), ...l.allowedHosts];
  const origins = [...(loopback ? localhostAllowedOrigins() : []), ...l.allowedHosts];
  return (request) => hostHeaderValidationResponse(request, hosts) ?? originValidationResponse(request, origins);
}

function plain(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: message }));
}
