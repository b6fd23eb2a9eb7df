import type { Progress, ProgressToken } from '@modelcontextprotocol/server';

export type SendNotification = (n: { method: 'notifications/progress'; params: Record<string, unknown> }) => Promise<void>;

/**
 * Progress notifications for one downstream call that carried a progress token. The spec
 * requires `progress` to increase with every notification; one call reports two phases (the
 * wait for approval, then the upstream's own progress while it runs), so values that would not
 * increase are dropped and the upstream phase is offset past the wait.
 */
export class ProgressReporter {
  private last = Number.NEGATIVE_INFINITY;
  /** Added to the upstream's values once it runs. */
  private upstreamBase: number | undefined;

  constructor(
    private readonly token: ProgressToken,
    private readonly send: SendNotification,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Reports the wait for approval. */
  waiting(progress: number, total: number | undefined, message: string): void {
    this.emit(progress, total, message);
  }

  /** Forwards a progress notification from the upstream server while the approved call runs. */
  forward(p: Progress): void {
    this.upstreamBase ??= Number.isFinite(this.last) ? this.last + 1 : 0;
    const base = this.upstreamBase;
    this.emit(base + p.progress, p.total === undefined ? undefined : base + p.total, p.message);
  }

  private emit(progress: number, total: number | undefined, message: string | undefined): void {
    if (!(progress > this.last)) return;
    this.last = progress;
    const params: Record<string, unknown> = { progressToken: this.token, progress };
    if (total !== undefined && total >= progress) params.total = total;
    if (message !== undefined) params.message = message;
    // Fire and forget: a client that stopped listening must not stall the call.
    this.send({ method: 'notifications/progress', params }).catch(this.onError);
  }
}
