import type { Command } from 'commander';
import { createWebhook } from '../../notify/webhooks/create-endpoint.js';
import { listWebhookDeliveries } from '../../notify/webhooks/list-deliveries.js';
import { listWebhooks } from '../../notify/webhooks/list-endpoints.js';
import { rotateWebhookSecret } from '../../notify/webhooks/rotate-secret.js';
import type { WebhookView } from '../../notify/webhooks/schemas.js';
import { disableWebhook, enableWebhook } from '../../notify/webhooks/set-enabled.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, safeLine, table } from '../output.js';
import { dataOptions } from './admin-options.js';

const describe = (e: WebhookView) => `${e.id} ${safeLine(e.url)} (${e.enabled ? 'enabled' : 'disabled'})`;

/** `countersign webhooks …`: outbound webhook endpoints, straight on the server's database like `users`. */
export function registerWebhooks(program: Command, out: (s: string) => void, err: (s: string) => void): void {
  const hooks = program.command('webhooks').description('signed outbound webhooks (works directly on the database)');

  dataOptions(hooks.command('add <url>').description('add an endpoint; prints its signing secret once'))
    .option('--events <types>', 'comma-separated event types to send (default: every type)')
    .option('--description <text>', 'what it is for', '')
    .option('--allow-insecure', 'permit a plain http:// URL')
    .option('--allow-private', 'permit private, loopback and link-local destinations (off: SSRF guard)')
    .option('--json', 'print JSON')
    .action(
      async (
        url: string,
        o: DataOptions & { events?: string; description: string; allowInsecure?: boolean; allowPrivate?: boolean; json?: boolean },
      ) => {
        const body = {
          url,
          description: o.description,
          event_types: o.events ? o.events.split(',').map((t) => t.trim()) : [],
          allow_insecure: o.allowInsecure === true,
          allow_private: o.allowPrivate === true,
        };
        const created = await withLocalDeps(o, (deps, actor) => createWebhook(deps, actor, body));
        if (o.json) return out(safeJson(created));
        out(`added ${describe(created)}`);
        out(`secret: ${created.secret}`);
        err('the secret is shown this once: give it to the receiver now');
      },
    );

  dataOptions(hooks.command('ls').description('list endpoints'))
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { json?: boolean }) => {
      const items = await withLocalDeps(o, (deps, actor) => listWebhooks(deps, actor));
      if (o.json) return out(safeJson(items));
      if (items.length === 0) return out('no webhook endpoints');
      out(
        table([
          ['ID', 'URL', 'EVENTS', 'STATE', 'ROTATING UNTIL', 'DESCRIPTION'],
          ...items.map((e) => [
            e.id,
            safeLine(e.url),
            e.event_types.length === 0 ? 'all' : e.event_types.join(','),
            e.enabled ? 'enabled' : `disabled: ${safeLine(e.disabled_reason ?? '')}`,
            e.previous_secret_valid_until ?? '-',
            safeLine(e.description),
          ]),
        ]),
      );
    });

  dataOptions(hooks.command('rotate <id>').description('new signing secret (printed once); the old one keeps signing for the overlap'))
    .option('--overlap <duration>', 'how long the old secret stays valid (0 for none, at most 7d)', '24h')
    .action(async (id: string, o: DataOptions & { overlap: string }) => {
      const rotated = await withLocalDeps(o, (deps, actor) => rotateWebhookSecret(deps, actor, id, { overlap: o.overlap }));
      out(`rotated ${describe(rotated)}`);
      out(`secret: ${rotated.secret}`);
      if (rotated.previous_secret_valid_until) err(`the previous secret keeps signing until ${rotated.previous_secret_valid_until}`);
    });

  dataOptions(hooks.command('disable <id>').description('stop deliveries to an endpoint'))
    .option('--reason <text>', 'why (audited)')
    .action(async (id: string, o: DataOptions & { reason?: string }) => {
      const e = await withLocalDeps(o, (deps, actor) => disableWebhook(deps, actor, id, o.reason ? { reason: o.reason } : {}));
      out(`disabled ${describe(e)}`);
    });

  dataOptions(hooks.command('enable <id>').description('resume deliveries to an endpoint, from the next event')).action(
    async (id: string, o: DataOptions) => {
      const e = await withLocalDeps(o, (deps, actor) => enableWebhook(deps, actor, id));
      out(`enabled ${describe(e)}`);
    },
  );

  dataOptions(hooks.command('deliveries <id>').description("an endpoint's delivery log, newest first, one line per attempt"))
    .option('--limit <n>', 'entries per page', '100')
    .option('--cursor <id>', 'continue after this entry (the last id of the previous page)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: DataOptions & { limit: string; cursor?: string; json?: boolean }) => {
      const page = await withLocalDeps(o, (deps, actor) =>
        listWebhookDeliveries(deps, actor, id, { cursor: o.cursor, limit: Number(o.limit) }),
      );
      if (o.json) return out(safeJson(page));
      if (page.items.length === 0) return out('no deliveries');
      out(
        table([
          ['AT', 'SEQ', 'TYPE', 'ATTEMPT', 'STATUS', 'MS', 'ERROR'],
          ...page.items.map((d) => [
            d.at,
            d.seq === null ? 'test' : String(d.seq),
            d.event_type,
            String(d.attempt),
            d.status_code === null ? '-' : String(d.status_code),
            String(d.duration_ms),
            d.error === null ? '' : safeLine(d.error).slice(0, 80),
          ]),
        ]),
      );
      if (page.next_cursor) err(`more: --cursor ${page.next_cursor}`);
    });
}
