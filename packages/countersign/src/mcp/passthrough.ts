import type { Client } from '@modelcontextprotocol/client';
import type { Server, ServerCapabilities } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { type Ask, askWithin, PASSTHROUGH_TIMEOUT_MS } from './passthrough-ask.js';
import { PromptRoutes } from './prompts.js';
import { ResourceSubscriptions } from './resource-subscriptions.js';
import { ResourceRoutes } from './resources.js';
import type { Upstream } from './upstream.js';

/**
 * Resources and prompts pass through without approval: they are context the host application
 * chooses to read, not actions the model takes. Approval is for tools/call. This module owns the
 * upstream side (timeouts, error mapping, change notifications); resources.ts and prompts.ts own
 * routing, passthrough-ask.ts the calls upstream, and passthrough-server.ts the downstream handlers.
 */

export type ListKind = 'resources' | 'prompts';

export class Passthrough {
  readonly resources: ResourceRoutes;
  readonly prompts: PromptRoutes;
  readonly subscriptions: ResourceSubscriptions;
  readonly ask: Ask;
  private readonly listeners = new Set<(kind: ListKind) => void>();

  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly log: Logger,
    timeoutMs = PASSTHROUGH_TIMEOUT_MS,
  ) {
    const ask = askWithin(timeoutMs);
    this.ask = ask;
    this.resources = new ResourceRoutes(
      upstreams.filter((u) => u.capabilities.resources !== undefined),
      ask,
      log,
    );
    this.prompts = new PromptRoutes(
      upstreams.filter((u) => u.capabilities.prompts !== undefined),
      ask,
      log,
    );
    this.subscriptions = new ResourceSubscriptions(ask, log);
    for (const u of upstreams) {
      this.listen(u);
      u.onReconnected(() => this.subscriptions.renew(u));
    }
  }

  /**
   * What the proxy declares downstream: each of resources, prompts and completions only when at
   * least one upstream has it, with listChanged / subscribe when at least one upstream does.
   * Subscriptions need `resources/subscribe`, which only 2025-era clients send: a 2026-07-28
   * listen stream names its URIs inside the SDK, where the proxy cannot see them to subscribe upstream.
   */
  capabilities(era: 'legacy' | 'modern'): ServerCapabilities {
    const caps = this.upstreams.map((u) => u.capabilities);
    const out: ServerCapabilities = {};
    if (caps.some((c) => c.resources)) {
      out.resources = {
        ...(caps.some((c) => c.resources?.listChanged) ? { listChanged: true } : {}),
        ...(era === 'legacy' && caps.some((c) => c.resources?.subscribe) ? { subscribe: true } : {}),
      };
    }
    if (caps.some((c) => c.prompts)) out.prompts = caps.some((c) => c.prompts?.listChanged) ? { listChanged: true } : {};
    if (caps.some((c) => c.completions)) out.completions = {};
    return out;
  }

  /** Subscribes to "an upstream's resource or prompt list changed"; returns the unsubscribe function. */
  onListChanged(fn: (kind: ListKind) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A downstream session ended: drop its resource subscriptions (upstream too, if it was the last). */
  endSession(sessionId: string): void {
    this.subscriptions.endSession(sessionId);
  }

  private listen(u: Upstream): void {
    let client: Client;
    try {
      client = u.sdk;
    } catch {
      return; // Gone already: it has nothing more to announce.
    }
    // Re-read first, so routing and names are current by the time a client reacts to the notice.
    client.setNotificationHandler('notifications/resources/list_changed', () => {
      this.resources.refreshUpstream(u).finally(() => this.emit('resources'));
    });
    client.setNotificationHandler('notifications/prompts/list_changed', () => {
      this.prompts.refreshUpstream(u).finally(() => this.emit('prompts'));
    });
    client.setNotificationHandler('notifications/resources/updated', (n) => this.subscriptions.updated(u, n.params));
  }

  private emit(kind: ListKind): void {
    for (const fn of this.listeners) {
      try {
        fn(kind);
      } catch (err) {
        this.log.warn({ err, kind }, 'could not forward a list_changed notification');
      }
    }
  }
}

/** Tells one downstream server that a list changed, if it declared that list at all. */
export function sendListChanged(server: Server, kind: ListKind): Promise<void> {
  const caps = server.getCapabilities();
  if (kind === 'resources') return caps.resources ? server.sendResourceListChanged() : Promise.resolve();
  return caps.prompts ? server.sendPromptListChanged() : Promise.resolve();
}
