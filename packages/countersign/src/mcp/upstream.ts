import { type CallToolResult, Client, type Progress, StreamableHTTPClientTransport, type Tool } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { Logger } from 'pino';
import { CsError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import type { UpstreamSpec } from './settings.js';

export interface UpstreamCallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  onprogress?: ((p: Progress) => void) | undefined;
}

/**
 * One connection to an upstream MCP server (a spawned stdio process or a Streamable HTTP URL),
 * through the official client SDK. The proxy declares no client capabilities upstream: it cannot
 * know that every downstream client has them, and must never promise what it cannot deliver.
 */
export class Upstream {
  private tools: Tool[] = [];
  private closed = false;
  /** Called after the upstream said its tool list changed and the new list has been read. */
  onToolsChanged: (() => void) | undefined;

  private constructor(
    readonly spec: UpstreamSpec,
    private readonly client: Client,
    private readonly log: Logger,
  ) {}

  /** Connects, reads the tool list and subscribes to its changes. Throws `unavailable` naming the server. */
  static async connect(spec: UpstreamSpec, log: Logger): Promise<Upstream> {
    const client = new Client({ name: 'countersign-mcp-proxy', version: VERSION }, { capabilities: {} });
    const up = new Upstream(spec, client, log.child({ upstream: spec.name }));
    try {
      await client.connect(transportFor(spec));
      await up.refreshTools();
    } catch (e) {
      await client.close().catch(() => undefined);
      throw new CsError('unavailable', `cannot start upstream MCP server "${spec.name}": ${(e as Error).message}`, { cause: e });
    }
    client.onclose = () => {
      if (!up.closed) up.log.error('upstream MCP server connection closed; its tools now fail');
      up.closed = true;
    };
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      up.refreshTools().then(
        () => up.onToolsChanged?.(),
        (err) => up.log.warn({ err }, 'could not re-read the tool list after list_changed'),
      );
    });
    return up;
  }

  get name(): string {
    return this.spec.name;
  }

  /** The last tool list read from the server. */
  get currentTools(): readonly Tool[] {
    return this.tools;
  }

  /** Whether the server tells us when its tools change (otherwise the list is re-read on each listing). */
  get announcesChanges(): boolean {
    return this.client.getServerCapabilities()?.tools?.listChanged === true;
  }

  /** Reads every page of the server's tool list. */
  async refreshTools(): Promise<readonly Tool[]> {
    this.assertOpen();
    const { tools } = await this.client.listTools(undefined, { cacheMode: 'bypass' });
    this.tools = tools;
    return tools;
  }

  /**
   * Calls a tool upstream. Cancellation (the signal) is forwarded as MCP cancellation; progress
   * from the server resets the time-out, so long approved operations are not cut short.
   */
  async callTool(name: string, args: Record<string, unknown>, opts: UpstreamCallOptions): Promise<CallToolResult> {
    this.assertOpen();
    return this.client.callTool(
      { name, arguments: args },
      {
        timeout: opts.timeoutMs,
        resetTimeoutOnProgress: true,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onprogress ? { onprogress: opts.onprogress } : {}),
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.close().catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new CsError('unavailable', `the upstream MCP server "${this.spec.name}" is not connected`);
  }
}

function transportFor(spec: UpstreamSpec): StdioClientTransport | StreamableHTTPClientTransport {
  if (spec.kind === 'http') {
    return new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers: spec.headers } });
  }
  return new StdioClientTransport({
    command: spec.command,
    args: spec.args,
    env: { ...getDefaultEnvironment(), ...spec.env },
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
    // The server's own diagnostics go where ours go (the host's MCP log), never onto our stdout.
    stderr: 'inherit',
  });
}
