import type { Clock } from '../../lib/clock.js';

/**
 * Bounds how many refused redemptions one agent gets audited per minute. Refusals are audited so that a
 * forged or replayed receipt leaves a trace; without a bound, an agent could grow the audit log as fast as it
 * can send requests. Past the bound, the agent's redemptions are answered 429 until its minute is over, and
 * only the first of those is audited (`receipt.refusals_throttled`). Per gateway process: with several nodes
 * the bound is per node, which still bounds the log.
 */
export class RefusalLimiter {
  private readonly windows = new Map<string, { start: number; refusals: number; throttled: boolean }>();

  constructor(
    private readonly clock: Clock,
    private readonly perMinute: number,
  ) {}

  /** Before a redemption: null when the agent may try, else the milliseconds until it may try again. */
  blockedFor(agentId: string): number | null {
    const w = this.current(agentId);
    return w.refusals < this.perMinute ? null : Math.max(1, w.start + 60_000 - this.clock.now());
  }

  /** A refusal of this agent's was just audited. */
  recordRefusal(agentId: string): void {
    this.current(agentId).refusals += 1;
  }

  /** True the first time in the agent's window that it is throttled: that one is audited, the rest are not. */
  firstThrottle(agentId: string): boolean {
    const w = this.current(agentId);
    if (w.throttled) return false;
    w.throttled = true;
    return true;
  }

  private current(agentId: string) {
    const now = this.clock.now();
    let w = this.windows.get(agentId);
    if (w === undefined || now - w.start >= 60_000 || now < w.start) {
      w = { start: now, refusals: 0, throttled: false };
      this.windows.set(agentId, w);
      // Old windows mean nothing; drop them so the map does not grow with every agent ever seen.
      if (this.windows.size > 10_000) for (const [k, v] of this.windows) if (now - v.start >= 60_000) this.windows.delete(k);
    }
    return w;
  }
}
