import type { Command } from 'commander';
import { CsError } from '../../lib/errors.js';
import { listDeliveries } from '../../notify/list-deliveries.js';
import type { DeliveryView } from '../../notify/schemas.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, safeLine, table } from '../output.js';
import { dataOptions } from './admin-options.js';

const STATUSES = ['queued', 'sent', 'failed', 'dead'];

/** `countersign notify …`: notification delivery records, straight on the server's database like `events`. */
export function registerNotify(program: Command, out: (s: string) => void, err: (s: string) => void): void {
  const notify = program.command('notify').description('notification deliveries (works directly on the database)');

  dataOptions(notify.command('deliveries').description('list notification deliveries, oldest first: one per event, channel and recipient'))
    .option('--action <id>', 'only deliveries about this action')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--channel <channel>', 'only this channel (email, slack, teams)')
    .option('--limit <n>', 'entries per page', '100')
    .option('--cursor <id>', 'continue after this entry (the last id of the previous page)')
    .option('--json', 'print JSON')
    .action(
      async (o: DataOptions & { action?: string; status?: string; channel?: string; limit: string; cursor?: string; json?: boolean }) => {
        if (o.status !== undefined && !STATUSES.includes(o.status)) {
          throw new CsError('invalid_request', `--status must be one of ${STATUSES.join(', ')}`);
        }
        const page = await withLocalDeps(o, (deps, actor) =>
          listDeliveries(deps, actor, {
            action: o.action,
            status: o.status as DeliveryView['status'] | undefined,
            channel: o.channel,
            cursor: o.cursor,
            limit: Number(o.limit),
          }),
        );
        if (o.json) return out(safeJson(page));
        if (page.items.length === 0) return out('no deliveries');
        out(
          table([
            ['ID', 'ACTION', 'EVENT', 'CHANNEL', 'RECIPIENT', 'STATUS', 'ATTEMPTS', 'UPDATED', 'LAST ERROR'],
            ...page.items.map((d) => [
              d.id,
              d.action_id ?? '-',
              d.event_type,
              d.channel,
              safeLine(d.recipient),
              d.status,
              String(d.attempts),
              d.updated_at,
              d.last_error === null ? '-' : safeLine(d.last_error).slice(0, 80),
            ]),
          ]),
        );
        if (page.next_cursor) err(`more: --cursor ${page.next_cursor}`);
      },
    );
}
