import type { NotifyRoute } from '../../config/notify-schema.js';
import type { Deps } from '../../deps.js';
import { canonicalJson, sha256Hex } from '../../lib/canonical.js';
import type { TimerHandle } from '../../lib/clock.js';
import { isCsError } from '../../lib/errors.js';
import { markFailed, markSent, reserveDelivery } from '../deliveries.js';
import { renderDigest } from '../email/render-digest.js';
import type { EmailSender } from '../email/transport.js';
import { consoleUrlOf, summarize } from '../render/summary.js';
import { collectDigest, type DigestRecipient } from './collect-digest.js';

/** How often the job looks for a period that began: digests go out within this of their period's start. */
export const DIGEST_CHECK_MS = 60_000;
/** Attempts at one recipient's digest within its period before it is recorded dead. */
const MAX_ATTEMPTS = 5;

/**
 * Sends the digests of the routes with `digest:` in the policy in force: at the first check in each period
 * (periods are aligned to the epoch: `1h` starts on the hour), each recipient gets one email listing what
 * the route covers that is pending then. A digest is a delivery record keyed by the route, the period and
 * the recipient, so across every node each recipient gets it once; a failed send is retried at the next
 * check within the period, and the next period is a new digest (nothing waiting: nothing sent).
 */
export class DigestJob {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly deps: Deps,
    private readonly email: EmailSender,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.running;
  }

  /**
   * One check now (tests call it): every digest route whose current period has not been sent to everyone.
   * A check already running read an earlier clock, so this one waits for it and then checks afresh.
   */
  async tick(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.check().finally(() => {
      this.running = undefined;
    });
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      void this.tick()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'the digest check failed; it runs again'))
        .finally(() => this.schedule(DIGEST_CHECK_MS));
    }, ms);
  }

  private async check(): Promise<void> {
    for (const route of this.deps.policy.current.routes) {
      if (route.digest === undefined) continue;
      await this.sendRoute(route, route.digest);
    }
  }

  private async sendRoute(route: NotifyRoute, period: number): Promise<void> {
    const now = this.deps.clock.now();
    const start = now - (now % period);
    const key = `digest:${sha256Hex(canonicalJson(route)).slice(0, 32)}:${start}`;
    const content = await collectDigest(this.deps, route);
    for (const r of content.recipients) await this.sendOne(key, start, r, content.more);
  }

  private async sendOne(key: string, start: number, r: DigestRecipient, more: number): Promise<void> {
    const deps = this.deps;
    const source = { seq: 0, type: 'notify.digest', ts: start, actionId: null };
    let reserved: Awaited<ReturnType<typeof reserveDelivery<null>>>;
    try {
      reserved = await reserveDelivery(deps, key, source, { channel: 'email', recipient: r.address, userId: r.userId }, async () => null);
    } catch (e) {
      if (isCsError(e) && e.code === 'conflict') return; // another node is sending it right now
      throw e;
    }
    if (!reserved.send) return;
    const publicUrl = deps.config.server.publicUrl ?? '';
    const items = r.actions.map((a) => summarize(a, consoleUrlOf(publicUrl, a.id)));
    const message = renderDigest(r.address, items, more, r.userId !== null, `${publicUrl.replace(/\/+$/, '')}/inbox`);
    try {
      const ref = await this.email.send(message);
      await markSent(deps, reserved.id, null, ref);
      deps.metrics.notificationsSent.inc({ channel: 'email' });
    } catch (e) {
      const attempts = await deps.db.read
        .selectFrom('notification_deliveries')
        .select('attempts')
        .where('id', '=', reserved.id)
        .executeTakeFirst();
      const dead = Number(attempts?.attempts ?? 0) >= MAX_ATTEMPTS;
      await markFailed(deps, reserved.id, null, (e as Error).message, dead);
      deps.metrics.notificationsFailed.inc({ channel: 'email', status: dead ? 'dead' : 'failed' });
    }
  }
}
