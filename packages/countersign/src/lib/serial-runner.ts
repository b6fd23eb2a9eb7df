/**
 * Runs one piece of work at a time: wake() starts it, and a wake-up while it runs makes it run once more
 * when it ends, so a wake-up is never lost and the work never overlaps itself. The durable consumers'
 * worker and the audit exporter run their passes this way.
 */
export class SerialRunner {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly stopped: () => boolean,
  ) {}

  wake(): void {
    if (this.stopped()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.work().finally(() => {
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
