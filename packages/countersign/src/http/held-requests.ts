/**
 * The requests this server holds open (long-polls, event streams), so closing can wait until each has
 * answered or ended before the database closes. Without it a held request whose client left just before
 * shutdown would still run its last reads (the current state, the identity check) after the database
 * was destroyed. A count, not a list: thousands are held at once and each costs one callback here.
 */
export class HeldRequests {
  private count = 0;
  private drained: (() => void)[] = [];

  /** Runs `fn` and counts it as held until it settles. */
  track<T>(fn: () => Promise<T>): Promise<T> {
    const done = this.hold();
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      done();
      throw e;
    }
    p.then(done, done);
    return p;
  }

  /** Counts a held request that ends by callback (an event stream); the returned function says it has (once). */
  hold(): () => void {
    this.count += 1;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.count -= 1;
      if (this.count === 0) for (const resolve of this.drained.splice(0)) resolve();
    };
  }

  size(): number {
    return this.count;
  }

  /** Resolves once no request is held: every one held now, and any that starts while waiting, has settled. */
  settled(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }
}
