import {
  type CallToolResult,
  Client,
  type Progress,
  type ServerCapabilities,
  StreamableHTTPClientTransport,
  type Tool,
} from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { Logger } from 'pino';
import { CsError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { definitionOf } from './pins.js';
import type { UpstreamSpec } from './settings.js';
import { ConnectionSupervisor, isConnectionLoss } from './supervisor.js';

export interface UpstreamCallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  onprogress?: ((p: Progress) => void) | undefined;
  /** The definition fingerprint the call was approved under: checked after any reconnection, just before sending. */
  definition?: string | undefined;
}

/** The call was not sent: the tool's definition is no longer the one it was approved under. */
export class DefinitionChanged extends Error {
  constructor(
    readonly tool: string,
    readonly gone: boolean,
  ) {
    super(`"${tool}" ${gone ? 'went away' : 'changed its definition'}`);
  }
}

/**
 * One connection to an upstream MCP server (a spawned stdio process or a Streamable HTTP URL),
 * through the official client SDK. The proxy declares no client capabilities upstream: it cannot
 * know that every downstream client has them, and must never promise what it cannot deliver.
 */
export class Upstream {
  private tools: Tool[] = [];
  /** As declared at the last successful connect: the SDK forgets them while a reconnection is under way. */
  private serverCapabilities: ServerCapabilities = {};
  /** Fingerprints of the listed definitions, computed once per listing (a new list brings new objects). */
  private readonly fingerprints = new WeakMap<Tool, string>();
  private closed = false;
  /** Restarts a crashed stdio server, reconnects a dropped HTTP one (supervisor.ts). */
  private readonly supervisor: ConnectionSupervisor;
  /** Called after the upstream said its tool list changed and the new list has been read. */
  onToolsChanged: (() => void) | undefined;
  /** Told when a new connection replaced a lost one: what the old one held upstream (subscriptions) is gone. */
  private readonly reconnectListeners = new Set<() => void>();

  private constructor(
    readonly spec: UpstreamSpec,
    private readonly client: Client,
    private readonly log: Logger,
  ) {
    this.supervisor = new ConnectionSupervisor({
      server: spec.name,
      eager: spec.kind === 'stdio',
      reconnect: () => this.reconnect(),
      reconnected: () => {
        this.onToolsChanged?.();
        for (const fn of this.reconnectListeners) fn();
      },
      log,
    });
  }

  /** Connects, reads the tool list and subscribes to its changes. Throws `unavailable` naming the server. */
  static async connect(spec: UpstreamSpec, log: Logger): Promise<Upstream> {
    const client = new Client({ name: 'countersign-mcp-proxy', version: VERSION }, { capabilities: {} });
    const up = new Upstream(spec, client, log.child({ upstream: spec.name }));
    try {
      await client.connect(transportFor(spec));
      up.serverCapabilities = client.getServerCapabilities() ?? {};
      await up.refreshTools();
    } catch (e) {
      // Closes the supervisor too: a loss noticed during start-up must not leave restarts behind.
      await up.close();
      throw new CsError('unavailable', `cannot start upstream MCP server "${spec.name}": ${(e as Error).message}`, { cause: e });
    }
    client.onclose = () => {
      if (!up.closed) up.supervisor.lost(spec.kind === 'stdio' ? 'its process exited' : 'the connection closed');
    };
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      up.refreshTools().then(
        () => up.onToolsChanged?.(),
        (err) => up.log.warn({ err }, 'could not re-read the tool list after list_changed'),
      );
    });
    return up;
  }

  onReconnected(fn: () => void): void {
    this.reconnectListeners.add(fn);
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
    return this.serverCapabilities.tools?.listChanged === true;
  }

  /** What the server declared at connect (the proxy declares resources and prompts downstream from these). */
  get capabilities(): ServerCapabilities {
    return this.serverCapabilities;
  }

  /**
   * The SDK client itself, for what passes through without approval (resources, prompts:
   * passthrough.ts). Tool calls never go this way; they go through callTool after approval.
   */
  get sdk(): Client {
    this.assertOpen();
    return this.client;
  }

  /**
   * Resolves once the server is connected, waiting for a reconnection under way (bounded); throws
   * `unavailable` naming the server otherwise. Lets a call learn the server is down before it is proposed.
   */
  async ready(): Promise<void> {
    if (this.closed) throw this.supervisor.unavailable();
    await this.supervisor.ready();
  }

  /**
   * Whether `tool` is listed now with the definition `fingerprint` was taken of. Synchronous, so
   * nothing can change between this check and a send that follows it in the same turn.
   */
  definitionIs(tool: string, fingerprint: string): 'same' | 'changed' | 'gone' {
    const t = this.tools.find((x) => x.name === tool);
    if (t === undefined) return 'gone';
    let fp = this.fingerprints.get(t);
    if (fp === undefined) {
      fp = definitionOf(t).fingerprint;
      this.fingerprints.set(t, fp);
    }
    return fp === fingerprint ? 'same' : 'changed';
  }

  /** Reads every page of the server's tool list. */
  async refreshTools(): Promise<readonly Tool[]> {
    await this.supervisor.ready();
    try {
      this.tools = await this.listTools();
      return this.tools;
    } catch (e) {
      if (isConnectionLoss(e)) this.supervisor.lost(`tools/list failed: ${(e as Error).message}`);
      throw e;
    }
  }

  /**
   * Calls a tool upstream. Cancellation (the signal) is forwarded as MCP cancellation; progress
   * from the server resets the time-out, so long approved operations are not cut short.
   */
  async callTool(name: string, args: Record<string, unknown>, opts: UpstreamCallOptions): Promise<CallToolResult> {
    await this.supervisor.ready();
    // A reconnection just now may have brought a server with another definition of this tool.
    const standing = opts.definition === undefined ? 'same' : this.definitionIs(name, opts.definition);
    if (standing !== 'same') throw new DefinitionChanged(name, standing === 'gone');
    try {
      return await this.client.callTool(
        { name, arguments: args },
        {
          timeout: opts.timeoutMs,
          resetTimeoutOnProgress: true,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onprogress ? { onprogress: opts.onprogress } : {}),
        },
      );
    } catch (e) {
      if (opts.signal?.aborted || !isConnectionLoss(e)) throw e;
      this.supervisor.lost(`a call failed: ${(e as Error).message}`);
      // The server may have run it before the connection went: never send it again, say so.
      const lost = `the connection to "${this.spec.name}" was lost during the call; it may have run, and it is not sent again`;
      throw new CsError('unavailable', lost, { cause: e });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const settled = this.supervisor.close();
    // Closing first cuts a restart under way short; closing again ends one that got through anyway.
    await this.client.close().catch(() => undefined);
    await settled;
    await this.client.close().catch(() => undefined);
  }

  /**
   * A new connection on the same SDK client, so every notification handler registered on it
   * (here and by the pass-through) keeps working. The old one is closed first: an HTTP transport
   * does not close by itself.
   */
  private async reconnect(): Promise<void> {
    await this.client.close().catch(() => undefined);
    if (this.closed) throw new Error('the proxy is stopping');
    try {
      await this.client.connect(transportFor(this.spec));
      this.serverCapabilities = this.client.getServerCapabilities() ?? {};
      this.tools = await this.listTools();
    } catch (e) {
      await this.client.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Every page of the tool list, or none from a server without tools (resources or prompts only):
   * the SDK client answers that case with a console.debug line, and stdout is the MCP stream.
   */
  private async listTools(): Promise<Tool[]> {
    if (this.serverCapabilities.tools === undefined) return [];
    return (await this.client.listTools(undefined, { cacheMode: 'bypass' })).tools;
  }

  private assertOpen(): void {
    if (this.closed || !this.supervisor.isUp) throw this.supervisor.unavailable();
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
