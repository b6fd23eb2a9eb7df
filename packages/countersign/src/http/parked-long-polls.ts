import type { ServerResponse } from 'node:http';
import type { Deps } from '../deps.js';
import { getAction } from '../domain/actions/get-action.js';
import type { ActionView } from '../domain/actions/schemas.js';
import { isDecided } from '../domain/actions/status.js';
import { loadActionViews } from '../domain/actions/view.js';
import type { Principal } from '../domain/identities/principal.js';
import { ScopeIndex } from '../events/bus.js';
import type { IdentityWatch } from '../events/identity-watcher.js';
import { actionOf, type StoredEvent } from '../events/types.js';
import type { TimerHandle } from '../lib/clock.js';
import { DeadlineHeap } from '../lib/deadline-heap.js';
import { CsError } from '../lib/errors.js';
import { AbortFanout } from './abort-fanout.js';
import type { HeldRequests } from './held-requests.js';

/**
 * One parked long-poll: a plain record, answered by calling its promise's resolve or reject. Thousands
 * are parked at once, so it has no timer, abort controller or suspended async frame of its own: its
 * deadline is an entry in the shared heap, its wake-up an entry in the index by action.
 */
class Parked {
  /** Its place in the deadline heap; -1 once it is no longer parked (answered, or its client left). */
  slot = -1;
  /** Its place among the waits told when its identity watch aborts (AbortFanout). */
  abortSlot = -1;
  /** Counted in the waiters gauge: the first read found the action still open. */
  counted = false;
  /** The client left (the response's `close`). */
  readonly left = () => this.owner.clientLeft(this);

  constructor(
    readonly owner: ParkedLongPolls,
    readonly actionId: string,
    readonly deadline: number,
    readonly watch: IdentityWatch,
    readonly res: ServerResponse,
    readonly resolve: (view: ActionView | undefined) => void,
    readonly reject: (err: unknown) => void,
  ) {}

  /** The identity watch aborted (AbortFanout calls it: no closure, no listener of its own). */
  handleEvent(): void {
    this.owner.revoked(this);
  }
}

const revokedError = () => new CsError('unauthenticated', 'the API key was revoked, or its person or agent disabled, while waiting');

/**
 * The long-polls this server holds (`GET /v1/actions/{id}?wait=N`), answered when the action is decided,
 * when the wait runs out (with the state then), when the caller loses its power (401), or when the server
 * closes (with the state then). One bus subscription for all of them, looked up by action; one timer, for
 * the earliest deadline. Waits that end together (the same deadline, a close) are answered with one read
 * of their actions, not one each. Every read is counted in `held`, so the database outlives it.
 */
export class ParkedLongPolls {
  /** Parked long-polls by the action they wait for (the bus's index, keyed by action only). */
  private readonly byAction = new ScopeIndex<Parked>();
  private readonly deadlines = new DeadlineHeap<Parked>();
  /** One abort listener per identity watch signal (one per credential), not one per parked long-poll. */
  private readonly aborts = new AbortFanout<Parked>();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly deps: Deps,
    private readonly held: HeldRequests,
  ) {}

  /**
   * The action once it is decided, or as it is when `waitMs` runs out or the server closes; undefined when
   * the client left first (there is no one to answer). The principal may see the action (checked by the
   * first read; an action's agent never changes). `verifiedAt`: the identity epoch the request was just
   * authenticated at, so the watch needs no re-read of the principal until the epoch moves past it.
   */
  wait(principal: Principal, id: string, waitMs: number, res: ServerResponse, verifiedAt?: number): Promise<ActionView | undefined> {
    if (this.closed) return this.held.track(() => getAction(this.deps, principal, id));
    return new Promise((resolve, reject) => {
      const watch = this.deps.identities.watch(principal, { verifiedAt });
      const p = new Parked(this, id, this.deps.clock.now() + waitMs, watch, res, resolve, reject);
      // Parked before the first read, so a decision committed while it reads still wakes it.
      this.park(p);
      void this.held.track(() => this.firstRead(principal, p));
    });
  }

  /** How many are parked (the first read included). */
  size(): number {
    return this.deadlines.size;
  }

  /** Answers every parked long-poll with its action's current state, and any that arrives later at once. */
  closeAll(): Promise<void> {
    this.closed = true;
    const all: Parked[] = [];
    for (let p = this.deadlines.peek(); p !== undefined; p = this.deadlines.peek()) {
      this.unpark(p);
      all.push(p);
    }
    return this.held.track(() => this.answer(all));
  }

  /** @internal The client left: nothing is read or sent. */
  clientLeft(p: Parked): void {
    if (!this.unpark(p)) return;
    p.watch.release();
    p.resolve(undefined);
  }

  /** @internal The caller's key was revoked or its person or agent disabled while it waited. */
  revoked(p: Parked): void {
    if (!this.unpark(p)) return;
    p.watch.release();
    p.reject(revokedError());
  }

  private async firstRead(principal: Principal, p: Parked): Promise<void> {
    let view: ActionView;
    try {
      view = await getAction(this.deps, principal, p.actionId);
    } catch (err) {
      if (!this.unpark(p)) return;
      p.watch.release();
      p.reject(err);
      return;
    }
    // Answered meanwhile (a decision, a close) or its client left.
    if (p.slot === -1) return;
    if (isDecided(view.status)) {
      this.unpark(p);
      await this.answer([p], view);
      return;
    }
    p.counted = true;
    this.deps.metrics.waiters.inc({ kind: 'long_poll' });
  }

  private park(p: Parked): void {
    this.deadlines.push(p);
    this.byAction.add(p, { actionId: p.actionId });
    this.unsubscribe ??= this.deps.bus.subscribe(this.onEvent);
    p.res.on('close', p.left);
    this.aborts.add(p.watch.signal, p);
    // A client that left, or a key revoked, while the request was being authenticated.
    if (p.res.closed) this.clientLeft(p);
    else if (p.watch.signal.aborted) this.revoked(p);
    else this.arm();
  }

  /** Takes `p` out of every structure; false if it was not parked (already answered, or its client left). */
  private unpark(p: Parked): boolean {
    if (p.slot === -1) return false;
    this.deadlines.remove(p);
    this.byAction.delete(p, { actionId: p.actionId });
    p.res.off('close', p.left);
    this.aborts.delete(p.watch.signal, p);
    if (p.counted) this.deps.metrics.waiters.dec({ kind: 'long_poll' });
    if (this.deadlines.size === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      this.timer?.cancel();
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
    }
    return true;
  }

  /**
   * Answers waits already unparked: with the decision that woke them, or (without one) each with its
   * action's current state, read for all at once. The identity check comes after the decision committed
   * or the state was read, so a decision made after a revocation never reaches the revoked caller. A
   * decision stamped with the identity epoch it committed at (`epoch`, StoredEvent.epoch) needs no check
   * for waits verified at that epoch: every revocation committed before it was applied to them.
   */
  private async answer(waits: Parked[], decided?: ActionView, epoch?: number): Promise<void> {
    if (waits.length === 0) return;
    try {
      const views = decided
        ? undefined
        : await loadActionViews(
            this.deps.db.read,
            waits.map((p) => p.actionId),
          );
      if (!waits.every((p) => p.watch.covers(epoch))) await this.deps.identities.sync();
      for (const p of waits) {
        const view = decided ?? views?.get(p.actionId);
        if (p.watch.signal.aborted) p.reject(revokedError());
        else if (view) p.resolve(view);
        else p.reject(new CsError('not_found', `no action with id ${p.actionId}`));
      }
    } catch (err) {
      for (const p of waits) p.reject(err);
    } finally {
      for (const p of waits) p.watch.release();
    }
  }

  /** A committed event: the waits on its action are answered if it decided the action. */
  private readonly onEvent = (e: StoredEvent): void => {
    if (typeof e.actionId !== 'string') return;
    const woken = this.byAction.matching(e);
    if (woken.length === 0) return;
    const view = actionOf(e);
    // Progress inside a review (a vote short of quorum, an escalation) is not an answer.
    if (!view || !isDecided(view.status)) return;
    for (const p of woken) this.unpark(p);
    void this.held.track(() => this.answer(woken, view, e.epoch));
  };

  /** Keeps the one timer set for the earliest deadline. */
  private arm(): void {
    const next = this.deadlines.peek();
    if (next === undefined || next.deadline >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = next.deadline;
    this.timer = this.deps.clock.setTimeout(this.onTimer, next.deadline - this.deps.clock.now());
  }

  /** The waits whose time ran out are answered with their actions' state, read in one go. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.deps.clock.now();
    const due: Parked[] = [];
    for (let p = this.deadlines.peek(); p !== undefined && p.deadline <= now; p = this.deadlines.peek()) {
      this.unpark(p);
      due.push(p);
    }
    this.arm();
    if (due.length > 0) void this.held.track(() => this.answer(due));
  };
}
