import type { Command } from 'commander';
import type { GrantView } from '../../domain/grants/schemas.js';
import { ApiClient } from '../api-client.js';
import { safeJson, safeText, table } from '../output.js';

const describeMatch = (g: GrantView) => ('when' in g.match ? `when ${g.match.when}` : `arguments ${JSON.stringify(g.match.arguments)}`);

export function registerGrants(program: Command, out: (s: string) => void): void {
  const grants = program.command('grants').description('standing grants (uses COUNTERSIGN_URL and COUNTERSIGN_KEY)');
  grants
    .command('ls')
    .description('list grants, newest first')
    .option('--agent <name>', 'only grants for this agent')
    .option('--active', 'only grants that can still approve something')
    .option('--json', 'print JSON')
    .action(async (o: { agent?: string; active?: boolean; json?: boolean }) => {
      const q = new URLSearchParams();
      if (o.agent) q.set('agent', o.agent);
      if (o.active) q.set('active', 'true');
      const { items } = await ApiClient.fromEnv().request<{ items: GrantView[] }>('GET', `/v1/grants?${q}`);
      if (o.json) return out(safeJson(items));
      if (items.length === 0) return out('no grants');
      out(
        table([
          ['ID', 'ACTIVE', 'TOOL', 'USES', 'EXPIRES', 'BY', 'MATCH'],
          ...items.map((g) => [
            g.id,
            g.active ? 'yes' : 'no',
            safeText(g.tool),
            `${g.uses}/${g.max_uses ?? '∞'}`,
            g.expires_at,
            g.created_by.email,
            safeText(describeMatch(g)),
          ]),
        ]),
      );
    });
  grants
    .command('revoke <id>')
    .description('end a grant now (its creator or an admin)')
    .option('--reason <text>', 'why')
    .action(async (id: string, o: { reason?: string }) => {
      const g = await ApiClient.fromEnv().request<GrantView>(
        'POST',
        `/v1/grants/${encodeURIComponent(id)}/revoke`,
        o.reason ? { reason: o.reason } : {},
      );
      out(`revoked grant ${g.id} (${g.uses} use(s))`);
    });
}
