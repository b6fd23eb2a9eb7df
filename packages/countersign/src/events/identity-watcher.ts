import { setMaxListeners } from 'node:events';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/types.js';
import { credentialKey, currentPrincipal } from '../domain/identities/authenticate.js';
import { readIdentityEpoch } from '../domain/identities/epoch.js';
import type { Principal } from '../domain/identities/principal.js';
import type { SessionClock } from '../domain/identities/sessions/authenticate-session.js';

/** Why a held request was ended: its key or principal lost its power, or (where asked) its rights changed. */
export type EndReason = 'revoked' | 'changed';

export interface IdentityWatch {
  /** Aborts when the principal is revoked (or changed, with `endOnChange`); `reason` says which. */
  readonly signal: AbortSignal;
  reason(): EndReason | undefined;
  /**
   * Resolves once an epoch read that started after this call has been applied. Call it after events
   * were committed and before delivering them: a revocation committed before them is then seen, so
   * nothing created after a revocation reaches the revoked principal. Rejects if the read failed.
   */
  sync(): Promise<void>;
  /**
   * Whether this principal's last verification still stands for something stamped with identity epoch `epoch`
   * (StoredEvent.epoch): it was verified at that very epoch, and the next read would not re-check it (the rule
   * of `sync`, written once in `current`). Then every identity change counted in `epoch` was applied to it, and
   * the event may be delivered with no read. False for an unknown epoch and once the watch has ended.
   */
  covers(epoch: number | undefined): boolean;
  /** Re-checks this principal at the next read even if the epoch did not move (see IdentityWatcher). */
  recheck(): Promise<void>;
  release(): void;
}

interface Entry {
  /** Credential, fingerprint and `endOnChange`: the held requests that share this entry share its verdict. */
  key: string;
  /** How many held requests share it; it is dropped when the last one releases it. */
  holders: number;
  principal: Principal;
  fingerprint: string;
  endOnChange: boolean;
  /** The epoch this entry was last verified at; undefined until its first check. */
  verifiedAt: number | undefined;
  /** When (session clock) it was last verified: sessions also end by time-out, which moves no epoch. */
  checkedAt: number;
  abort: AbortController;
  reason: EndReason | undefined;
}

const TICK_MS = 1000;
/** How often a held session is re-read even when the epoch did not move, so its time-outs end it too. */
export const SESSION_RECHECK_MS = 60_000;

/**
 * Ends streams and long-polls whose principal lost its power while they were open. Requests are
 * authenticated once, when they start; a held one would otherwise outlive a revocation. Every change
 * of who may do what bumps the identity epoch in its own transaction (domain/identities/epoch.ts), so
 * one read of one row per tick (or before a delivery) tells whether anything needs re-checking, however
 * many streams are open, and it sees changes written by the admin CLI or another gateway too. Only then
 * are the held principals re-read by key prefix, and the revoked ones aborted. A delivery of events that
 * carry the epoch they are known at (StoredEvent.epoch) needs no read when the watch stands at that epoch
 * (`covers`): the read would find what the epoch already says.
 *
 * One per gateway (built with the deps). The tick is a real timer because what it watches is the
 * database, which other processes write; it runs only while something is held open.
 */
export class IdentityWatcher {
  /**
   * One entry per credential (and fingerprint and `endOnChange`), however many requests it holds open:
   * they would all get the same verdict, so one check and one abort signal serve them all.
   */
  private readonly entries = new Map<string, Entry>();
  private holders = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The next read, not started yet: callers before it starts share it. */
  private queued: Promise<void> | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly logger: Logger,
    /** Sessions time out as well as being revoked; a re-check applies the time-outs too. */
    private readonly sessions: SessionClock,
    private readonly tickMs = TICK_MS,
  ) {}

  /**
   * `verifiedAt`: the identity epoch the principal was authenticated at (read before its row, as KeyCache
   * does). The held request then needs no re-read of its principal until the epoch moves past it; without
   * it the first check re-reads the principal, as a request just authenticated would not need.
   */
  watch(principal: Principal, opts: { endOnChange?: boolean; verifiedAt?: number | undefined } = {}): IdentityWatch {
    const endOnChange = opts.endOnChange ?? false;
    const print = fingerprint(principal);
    const key = JSON.stringify([credentialKey(principal.credential), print, endOnChange]);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = {
        key,
        holders: 0,
        principal,
        fingerprint: print,
        endOnChange,
        verifiedAt: undefined,
        checkedAt: this.sessions.now(),
        abort: new AbortController(),
        reason: undefined,
      };
      // Every held request of this credential listens on it: thousands at once are expected.
      setMaxListeners(0, entry.abort.signal);
      this.entries.set(key, entry);
    }
    // Same credential and fingerprint as the principal just authenticated at `verifiedAt`: the same verdict then.
    if (opts.verifiedAt !== undefined && (entry.verifiedAt === undefined || entry.verifiedAt < opts.verifiedAt)) {
      entry.verifiedAt = opts.verifiedAt;
    }
    entry.holders += 1;
    this.holders += 1;
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        // Entries keep their old epoch on a failed read, so the next tick re-checks them.
        this.sync().catch((err: unknown) => this.logger.warn({ err }, 'identity check failed; retrying'));
      }, this.tickMs);
      this.timer.unref();
    }
    return new Watch(this, entry);
  }

  /** How many held requests are registered and not ended (for tests and metrics). */
  size(): number {
    return this.holders;
  }

  /** @internal A held request is done with its entry (Watch.release, once). */
  release(entry: Entry): void {
    // An ended entry's holders were no longer counted from the moment it ended.
    if (entry.reason === undefined) this.holders -= 1;
    entry.holders -= 1;
    if (entry.holders === 0 && this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    if (this.holders === 0) this.stop();
  }

  sync(): Promise<void> {
    this.queued ??= (async () => {
      // Wait for a read already in flight: it may have started before the caller's events committed.
      await this.running?.catch(() => undefined);
      this.queued = undefined;
      this.running = this.check();
      return this.running;
    })();
    return this.queued;
  }

  /**
   * Called after this process committed a change of identity: its held requests are checked now rather
   * than at the next tick. Never throws; the tick retries a failed read.
   */
  changed(): void {
    if (this.entries.size === 0) return;
    this.sync().catch((err: unknown) => this.logger.warn({ err }, 'identity check failed; retrying'));
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.entries.size === 0) return;
    // A failed read rejects: a caller about to deliver must not deliver unverified (fails closed).
    const epoch = await readIdentityEpoch(this.db);
    const at = this.sessions.now();
    const stale = [...this.entries.values()].filter((e) => !current(e, epoch, at));
    if (stale.length === 0) return;
    const fresh = new Map<string, Principal | null>();
    for (const e of stale) {
      const key = credentialKey(e.principal.credential);
      if (!fresh.has(key)) fresh.set(key, await currentPrincipal(this.db, e.principal.credential, this.sessions));
    }
    for (const e of stale) {
      const now = fresh.get(credentialKey(e.principal.credential)) ?? null;
      if (now === null) this.end(e, 'revoked');
      else if (e.endOnChange && fingerprint(now) !== e.fingerprint) this.end(e, 'changed');
      else {
        e.verifiedAt = epoch;
        e.checkedAt = at;
      }
    }
  }

  /** @internal See IdentityWatch.covers. */
  covers(e: Entry, epoch: number | undefined): boolean {
    return epoch !== undefined && e.reason === undefined && current(e, epoch, this.sessions.now());
  }

  private end(e: Entry, reason: EndReason): void {
    e.reason = reason;
    // Its holders still release it; a request that starts now gets a fresh entry, checked afresh.
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    this.holders -= e.holders;
    e.abort.abort(reason);
    if (this.holders === 0) this.stop();
  }
}

/** One held request's view of its (shared) entry. */
class Watch implements IdentityWatch {
  private released = false;

  constructor(
    private readonly watcher: IdentityWatcher,
    private readonly entry: Entry,
  ) {}

  get signal(): AbortSignal {
    return this.entry.abort.signal;
  }

  reason(): EndReason | undefined {
    return this.entry.reason;
  }

  sync(): Promise<void> {
    return this.watcher.sync();
  }

  covers(epoch: number | undefined): boolean {
    return this.watcher.covers(this.entry, epoch);
  }

  recheck(): Promise<void> {
    this.entry.verifiedAt = undefined;
    return this.watcher.sync();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.watcher.release(this.entry);
  }
}

/**
 * Whether an entry's verdict stands at `epoch` (at session-clock time `at`): it was verified at exactly that epoch
 * (any other value, a restored database's lower one included, means changes it has not seen), and a session was
 * re-read within SESSION_RECHECK_MS (sessions also end by time-out, which moves no epoch). A read re-checks the
 * entries for which this is false; a delivery stamped with `epoch` needs no read while it is true.
 */
function current(e: Entry, epoch: number, at: number): boolean {
  return e.verifiedAt === epoch && !(e.principal.credential.kind === 'session' && at - e.checkedAt >= SESSION_RECHECK_MS);
}

/** What a stream's visibility and authority depend on; a change ends streams that asked for it. */
function fingerprint(p: Principal): string {
  return p.type === 'user' ? JSON.stringify([p.type, p.id, p.role, p.groups]) : JSON.stringify([p.type, p.id, p.ownerId, p.labels]);
}
