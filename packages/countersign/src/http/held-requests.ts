/**
 * The requests this server holds open (long-polls, event streams), so closing can wait until each has
 * answered or ended before the database closes. Without it a held request whose client left just before
 * shutdown would still run its last reads (the current state, the identity check) after the database
 * was destroyed.
 */
export class HeldRequests {
  private readonly open = new Set<Promise<unknown>>();

  /** Runs `fn` and counts it as held until it settles. */
  track<T>(fn: () => Promise<T>): Promise<T> {
    const p = fn();
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.open.add(settled);
    void settled.then(() => this.open.delete(settled));
    return p;
  }

  /** Counts a held request that ends by callback (an event stream): call the returned function when it has. */
  hold(): () => void {
    let done: () => void = () => undefined;
    const ended = new Promise<void>((r) => {
      done = r;
    });
    this.open.add(ended);
    void ended.then(() => this.open.delete(ended));
    return done;
  }

  size(): number {
    return this.open.size;
  }

  /** Resolves once every request held now, and any that starts while waiting, has settled. */
  async settled(): Promise<void> {
    while (this.open.size > 0) await Promise.all([...this.open]);
  }
}
