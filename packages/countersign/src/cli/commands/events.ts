import type { Command } from 'commander';
import { forgetConsumer } from '../../events/consumers/forget-consumer.js';
import { listConsumers } from '../../events/consumers/list-consumers.js';
import { listDeadLetters } from '../../events/consumers/list-dead-letters.js';
import { replayDeadLetter } from '../../events/consumers/replay-dead-letter.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, safeLine, table } from '../output.js';
import { dataOptions } from './admin-options.js';

/** `countersign events …`: durable consumers and dead letters, straight on the server's database like `users`. */
export function registerEvents(program: Command, out: (s: string) => void, err: (s: string) => void): void {
  const events = program.command('events').description('event consumers and dead letters (works directly on the database)');

  dataOptions(events.command('consumers').description('list durable consumers: cursor, lag, the node running each'))
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { json?: boolean }) => {
      const items = await withLocalDeps(o, (deps, actor) => listConsumers(deps, actor));
      if (o.json) return out(safeJson(items));
      if (items.length === 0) return out('no consumers');
      out(
        table([
          ['NAME', 'CURSOR', 'HEAD', 'LAG', 'LAG_MS', 'RETRYING', 'DEAD', 'HELD BY'],
          ...items.map((c) => [
            c.name,
            String(c.cursor),
            String(c.head),
            String(c.lag_events),
            String(c.lag_ms),
            String(c.retrying),
            String(c.dead_letters),
            c.lease_owner ?? '-',
          ]),
        ]),
      );
    });

  dataOptions(events.command('dead-letters').description('list events a consumer gave up on (not yet replayed)'))
    .option('--consumer <name>', 'only this consumer')
    .option('--all', 'include entries already replayed')
    .option('--limit <n>', 'entries per page', '100')
    .option('--cursor <id>', 'continue after this entry (the last id of the previous page)')
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { consumer?: string; all?: boolean; limit: string; cursor?: string; json?: boolean }) => {
      const page = await withLocalDeps(o, (deps, actor) =>
        listDeadLetters(deps, actor, { consumer: o.consumer, all: o.all, cursor: o.cursor, limit: Number(o.limit) }),
      );
      if (o.json) return out(safeJson(page));
      if (page.items.length === 0) return out('no dead letters');
      out(
        table([
          ['ID', 'CONSUMER', 'SEQ', 'TYPE', 'ATTEMPTS', 'AT', 'REPLAYED', 'LAST ERROR'],
          ...page.items.map((d) => [
            d.id,
            d.consumer,
            String(d.seq),
            d.event_type,
            String(d.attempts),
            d.dead_lettered_at,
            d.replayed_at ?? '-',
            safeLine(d.last_error).slice(0, 80),
          ]),
        ]),
      );
      if (page.next_cursor) err(`more: --cursor ${page.next_cursor}`);
    });

  dataOptions(
    events.command('replay <id>').description('deliver a dead-lettered event to its consumer again (audited; once per entry)'),
  ).action(async (id: string, o: DataOptions) => {
    const d = await withLocalDeps(o, (deps, actor) => replayDeadLetter(deps, actor, id));
    out(`replayed ${d.id}: event ${d.seq} (${d.event_type}) goes to ${d.consumer} again`);
  });

  dataOptions(
    events
      .command('forget <name>')
      .description('remove a retired consumer (cursor, retries, dead letters) so it no longer holds retention back'),
  ).action(async (name: string, o: DataOptions) => {
    const f = await withLocalDeps(o, (deps, actor) => forgetConsumer(deps, actor, name));
    out(`forgot consumer ${f.name} (cursor ${f.cursor}; dropped ${f.retries} retries and ${f.deadLetters} dead letters)`);
  });
}
