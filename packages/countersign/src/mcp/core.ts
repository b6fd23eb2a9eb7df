import { type Client, createClient } from '@countersign/sdk';
import type { RequestStateCodec, Tool } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../lib/clock.js';
import { CsError } from '../lib/errors.js';
import { BUILTIN_TOOLS } from './builtin-tools.js';
import { CallRegistry, type OpenCall } from './call-registry.js';
import { Catalogue, type CatalogueEntry } from './catalogue.js';
import { toCsError } from './errors.js';
import { createGatewayFetch, type GatewayFetch } from './gateway-fetch.js';
import { type ApprovalState, createApprovalStateCodec } from './input-required.js';
import { Passthrough } from './passthrough.js';
import { PinStore } from './pins.js';
import type { ProxySettings } from './settings.js';
import { Upstream } from './upstream.js';

/** A downstream session: the scope of "identical call" and the `session_id` reviewers see. */
export interface Session {
  id: string;
}

export interface ProxyCoreOptions {
  log: Logger;
  /** Budgets and progress ticks run on this clock (tests inject a FakeClock). */
  clock?: Clock;
}

const RESERVED = new Set(BUILTIN_TOOLS.map((t) => t.name));

/**
 * What every downstream session shares: the gateway client, the upstream connections, the
 * merged and pinned tool catalogue, the open calls, and background work to finish on shutdown.
 */
export class ProxyCore {
  readonly registry = new CallRegistry();
  readonly stateCodec: RequestStateCodec<ApprovalState> = createApprovalStateCodec();
  /** Upstream resources and prompts, passed through without approval. */
  readonly passthrough: Passthrough;
  private catalogue: Catalogue;
  private readonly listeners = new Set<() => void>();
  private readonly tasks = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly settings: ProxySettings,
    readonly cs: Client,
    readonly clock: Clock,
    readonly log: Logger,
    private readonly upstreams: readonly Upstream[],
    private readonly pins: PinStore,
    private readonly gatewayFetch: GatewayFetch,
  ) {
    this.catalogue = this.build();
    for (const u of upstreams) u.onToolsChanged = () => this.toolsChanged();
    this.passthrough = new Passthrough(upstreams, log);
  }

  /**
   * Checks the agent key, opens the pin file and connects every upstream. Fails as a whole,
   * naming the cause: a proxy missing one of its servers would quietly hide tools.
   */
  static async start(settings: ProxySettings, opts: ProxyCoreOptions): Promise<ProxyCore> {
    const gatewayFetch = createGatewayFetch();
    // The trace a call carries in its `_meta` is passed explicitly; the proxy's own process has no spans to propagate.
    const cs = createClient({
      url: settings.gateway.url,
      apiKey: settings.gateway.agentKey,
      fetch: gatewayFetch.fetch,
      propagateTrace: false,
    });
    const upstreams: Upstream[] = [];
    try {
      await assertAgentKey(cs);
      const pins = PinStore.open(settings.pinsFile);
      const results = await Promise.allSettled(settings.upstreams.map((spec) => Upstream.connect(spec, opts.log)));
      upstreams.push(...results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return new ProxyCore(settings, cs, opts.clock ?? systemClock, opts.log, upstreams, pins, gatewayFetch);
    } catch (e) {
      await Promise.all(upstreams.map((u) => u.close()));
      gatewayFetch.close();
      throw e;
    }
  }

  /** The catalogue entry a downstream tool name refers to (re-reading the pin file first if it changed). */
  lookup(name: string): CatalogueEntry | undefined {
    this.reloadPins();
    return this.catalogue.lookup(name);
  }

  /**
   * The merged tool list. Upstreams that do not announce changes are asked again first, so a
   * listing is never staler than the upstream itself.
   */
  async listTools(): Promise<Tool[]> {
    this.reloadPins();
    const quiet = this.upstreams.filter((u) => !u.announcesChanges);
    if (quiet.length > 0) {
      await Promise.all(quiet.map((u) => u.refreshTools().catch((err) => this.log.warn({ err, upstream: u.name }, 'tools/list failed'))));
      this.catalogue = this.build();
    }
    return [...BUILTIN_TOOLS, ...[...this.catalogue.entries].map(exposedTool)];
  }

  /** Subscribes to "the merged tool list changed"; returns the unsubscribe function. */
  onToolsChanged(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Keeps background work (result reports, withdrawals) alive until close() has waited for it. */
  track(task: Promise<unknown>): void {
    this.tasks.add(task);
    task.finally(() => this.tasks.delete(task)).catch(() => undefined);
  }

  /**
   * Withdraws an open call's action if it is still pending, so nobody reviews what will never
   * run. An approved one cannot be cancelled; it is simply never redeemed and expires.
   */
  async withdraw(call: Pick<OpenCall, 'key' | 'actionId'>, reason: string): Promise<void> {
    this.registry.settle(call.key, call.actionId);
    try {
      await this.cs.cancel(call.actionId, reason);
    } catch (e) {
      const code = toCsError(e).code;
      // conflict: it was decided meanwhile; never run from here on, which is all that matters.
      if (code !== 'conflict' && code !== 'not_found') this.log.warn({ err: e, action: call.actionId }, 'could not withdraw the action');
    }
  }

  /** A downstream session ended: its open calls will never be retried. */
  async endSession(session: Session, reason: string): Promise<void> {
    this.passthrough.endSession(session.id);
    await Promise.all(this.registry.drainScope(session.id).map((c) => this.withdraw(c, reason)));
  }

  /** Withdraws every open call, finishes background reports and closes the upstreams. Idempotent. */
  close(reason = 'the MCP proxy stopped'): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.registry.drainAll().map((c) => this.withdraw(c, reason)));
      await Promise.allSettled([...this.tasks]);
      await Promise.all(this.upstreams.map((u) => u.close()));
      this.gatewayFetch.close();
    })();
    return this.closing;
  }

  private build(): Catalogue {
    return Catalogue.build(this.upstreams, this.pins, RESERVED, new Date(this.clock.now()), (problem) => this.log.warn(problem));
  }

  /** An operator accepted or forgot a pin (`countersign mcp pins`), or another proxy pinned: classify by the file as it is now. */
  private reloadPins(): void {
    try {
      if (this.pins.reloadIfChanged()) this.toolsChanged();
    } catch (err) {
      this.log.error({ err }, 'could not re-read the pin file; the pins read before stay in force');
    }
  }

  private toolsChanged(): void {
    try {
      this.catalogue = this.build();
    } catch (err) {
      this.log.error({ err }, 'could not rebuild the tool catalogue');
      return;
    }
    for (const fn of this.listeners) fn();
  }
}

/**
 * How a tool is listed downstream: its own definition under its exposed name, with the hints
 * its calls are classified by, so the host and the gateway agree on what the tool is.
 */
function exposedTool(entry: CatalogueEntry): Tool {
  return { ...entry.tool, name: entry.name, annotations: { ...entry.tool.annotations, ...entry.hints } } as Tool;
}

async function assertAgentKey(cs: Client): Promise<void> {
  let me: { type?: string };
  try {
    me = await cs.request<{ type?: string }>('GET', '/v1/me');
  } catch (e) {
    const err = toCsError(e);
    throw new CsError(err.code, `the gateway at ${cs.url} refused the agent key: ${err.message}`, { cause: e });
  }
  if (me.type !== 'agent')
    throw new CsError('forbidden', 'COUNTERSIGN_AGENT_KEY must be an agent key (from "countersign agents add"), not a person\'s');
}
