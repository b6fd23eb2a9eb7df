import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { canonicalJson, sha256Hex } from '../lib/canonical.js';

/**
 * Which gateway action a tool call belongs to.
 *
 * "Identical call" means: the same downstream session (the scope), the same upstream server, the
 * same upstream tool and canonically equal arguments (RFC 8785, so key order does not matter),
 * while the action proposed for it is still open (pending, or approved and not yet run). Such a
 * call attaches to that action instead of proposing again, which is how "NOT EXECUTED — pending"
 * followed by a retry runs the approved call exactly once. Once the action is settled (run,
 * denied, expired, cancelled) the next identical call is a new proposal: doing the same thing
 * twice on purpose needs approval twice.
 */
export interface OpenCall {
  readonly key: string;
  readonly scope: string;
  readonly actionId: string;
  /** The run of the approved action; identical calls that attach while it runs share its result. */
  running: Promise<CallToolResult> | undefined;
}

/** Open calls per scope beyond this are the oldest first withdrawn (a client that never retries). */
export const MAX_OPEN_PER_SCOPE = 1000;

export class CallRegistry {
  /** Scopes Idempotency-Keys to this process, so keys never meet those of an earlier run of the proxy. */
  private readonly instance = randomUUID();
  private seq = 0;
  private readonly open = new Map<string, OpenCall>();

  /** The identity of a call within its scope (see the class comment). */
  callKey(scope: string, server: string, tool: string, args: Record<string, unknown>): string {
    return sha256Hex(canonicalJson({ arguments: args, scope, server, tool }));
  }

  /**
   * An Idempotency-Key for one proposal: a retried HTTP request of that proposal gets the same
   * action back, while a later, settled-then-repeated call gets a new one.
   */
  newIdempotencyKey(key: string): string {
    this.seq += 1;
    return `mcp-${this.instance}-${key.slice(0, 32)}-${this.seq}`;
  }

  find(key: string): OpenCall | undefined {
    return this.open.get(key);
  }

  /** Records a new open call; returns the calls evicted to stay under the per-scope bound (withdraw them). */
  track(key: string, scope: string, actionId: string): { call: OpenCall; evicted: OpenCall[] } {
    const call: OpenCall = { key, scope, actionId, running: undefined };
    this.open.set(key, call);
    const evicted: OpenCall[] = [];
    const mine = [...this.open.values()].filter((c) => c.scope === scope && c.running === undefined);
    // Map iteration is insertion order: the first ones are the oldest.
    for (const old of mine.slice(0, Math.max(0, mine.length - MAX_OPEN_PER_SCOPE))) {
      this.open.delete(old.key);
      evicted.push(old);
    }
    return { call, evicted };
  }

  /** The action is settled (or abandoned): the next identical call proposes afresh. */
  settle(key: string, actionId: string): void {
    if (this.open.get(key)?.actionId === actionId) this.open.delete(key);
  }

  /** Removes and returns every open call of a scope (its session ended). */
  drainScope(scope: string): OpenCall[] {
    const out = [...this.open.values()].filter((c) => c.scope === scope);
    for (const c of out) this.open.delete(c.key);
    return out;
  }

  /** Removes and returns every open call (the proxy is stopping). */
  drainAll(): OpenCall[] {
    const out = [...this.open.values()];
    this.open.clear();
    return out;
  }
}
