import { randomUUID } from 'node:crypto';
import { type Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { ProxyCore, Session } from './core.js';
import { createDownstreamServer } from './downstream.js';
import { type ListKind, sendListChanged } from './passthrough.js';

/** Sessions beyond this close the least recently used one: clients that vanish without DELETE. */
export const MAX_LEGACY_SESSIONS = 256;

interface Entry {
  session: Session;
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
  lastUsed: number;
}

/**
 * 2025-era Streamable HTTP sessions: one server instance per `Mcp-Session-Id`, so a client's
 * `notifications/cancelled` reaches the instance that runs its call, and `list_changed` reaches
 * its GET stream. A session that ends (DELETE, eviction, shutdown) withdraws its pending actions.
 */
export class LegacySessions {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly core: ProxyCore) {}

  async handle(request: Request): Promise<Response> {
    const sid = request.headers.get('mcp-session-id');
    if (sid !== null) {
      const entry = this.entries.get(sid);
      // 404 tells a 2025-era client to start a new session.
      if (!entry)
        return Response.json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }, { status: 404 });
      entry.lastUsed = Date.now();
      return entry.transport.handleRequest(request);
    }
    return this.open(request);
  }

  /** Only an `initialize` opens a session; the transport answers anything else with an error. */
  private async open(request: Request): Promise<Response> {
    const id = randomUUID();
    const session: Session = { id: `mcp-http-${id}` };
    const server = createDownstreamServer(this.core, session, 'legacy');
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: () => {
        this.entries.set(id, { session, server, transport, lastUsed: Date.now() });
      },
    });
    server.onclose = () => void this.end(id);
    await server.connect(transport);
    const response = await transport.handleRequest(request);
    if (!this.entries.has(id)) await server.close();
    else this.evictBeyondLimit();
    return response;
  }

  toolsChanged(): void {
    for (const e of this.entries.values()) e.server.sendToolListChanged().catch(() => undefined);
  }

  listChanged(kind: ListKind): void {
    for (const e of this.entries.values()) sendListChanged(e.server, kind).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.end(id)));
  }

  private async end(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    await entry.server.close().catch(() => undefined);
    await this.core.endSession(entry.session, 'the MCP client session ended');
  }

  private evictBeyondLimit(): void {
    if (this.entries.size <= MAX_LEGACY_SESSIONS) return;
    const oldest = [...this.entries.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
    if (oldest) void this.end(oldest[0]);
  }
}
