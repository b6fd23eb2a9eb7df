import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage, MessageExtraInfo, Server, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import type { ProxyCore, Session } from './core.js';
import { createDownstreamServer } from './downstream.js';
import { sendListChanged } from './passthrough.js';

export interface StdioServing {
  /** Resolves when the client has gone (stdin ended) and its session's open calls were withdrawn. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves one MCP client over stdio (or over `transport`, for tests), in whichever protocol era
 * the client opens with. The whole connection is one session; when it ends, nothing it left
 * waiting for approval will ever run, so its pending actions are withdrawn.
 */
export function serveProxyOverStdio(core: ProxyCore, transport: Transport = new StdioServerTransport()): StdioServing {
  const session: Session = { id: `mcp-stdio-${randomUUID()}` };
  const servers = new Set<Server>();
  let ended!: () => void;
  const gone = new Promise<void>((resolve) => (ended = resolve));
  const wire = new ObservedTransport(transport, () => ended());
  const handle = serveStdio(
    (ctx) => {
      const server = createDownstreamServer(core, session, ctx.era);
      servers.add(server);
      return server;
    },
    { transport: wire, onerror: (err) => core.log.debug({ err }, 'stdio serving error') },
  );
  const unsubscribe = core.onToolsChanged(() => {
    // The probe instance of the opening exchange is never connected; only the pinned one delivers.
    for (const s of servers) s.sendToolListChanged().catch(() => undefined);
  });
  const unsubscribeLists = core.passthrough.onListChanged((kind) => {
    for (const s of servers) sendListChanged(s, kind).catch(() => undefined);
  });
  const closed = gone.then(async () => {
    unsubscribe();
    unsubscribeLists();
    await core.endSession(session, 'the MCP client disconnected');
  });
  return {
    closed,
    async close() {
      await handle.close();
      ended();
      await closed;
    },
  };
}

/** Passes everything through to the real transport and also reports its closing. */
class ObservedTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  constructor(
    private readonly inner: Transport,
    onClosed: () => void,
  ) {
    inner.onclose = () => {
      this.onclose?.();
      onClosed();
    };
    inner.onerror = (e) => this.onerror?.(e);
    inner.onmessage = (m, extra) => this.onmessage?.(m, extra);
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
