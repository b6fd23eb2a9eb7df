/**
 * Runs one piece of work at a time: wake() starts it, and a wake-up while it runs makes it run once more
 * when it ends, so a wake-up is never lost and the work never overlaps itself. The durable consumers'
 * worker and the audit exporter run their passes this way.
 *
 * A wake-up starts the work on the next turn of the event loop, never inside the caller's turn. The
 * usual caller is a commit's event publication, and the request that committed is still on its way to
 * its answer (microtasks of the same turn): a pass started there would run its reads (synchronous on
 * SQLite) ahead of that answer. A wake-up before the deferred pass has started needs no second pass:
 * the pass has not read anything yet.
 */
export class SerialRunner {
  private running: Promise<void> | undefined;
  private started = false;
  private again = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly stopped: () => boolean,
  ) {}

  wake(): void {
    if (this.stopped()) return;
    if (this.running) {
      if (this.started) this.again = true;
      return;
    }
    this.started = false;
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        if (this.stopped()) return;
        this.started = true;
        return this.work();
      })
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped()) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Resolves once no run is in flight, a re-run a wake-up asked for included. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
