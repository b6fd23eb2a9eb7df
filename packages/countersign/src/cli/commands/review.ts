import type { Command } from 'commander';
import type { ActionView } from '../../domain/actions/schemas.js';
import { CsError } from '../../lib/errors.js';
import { ApiClient } from '../api-client.js';
import { ago, safeJson, safeLine, safeText, table } from '../output.js';

function parseArgsJson(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CsError('invalid_request', `--args is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CsError('invalid_request', '--args must be a JSON object');
  return v as Record<string, unknown>;
}

/**
 * The MCP proxy's note that a tool's definition no longer matches its pin (the proxy writes
 * it; an agent could too, so it is only shown, never trusted). Details: `show --json`.
 */
function definitionChange(metadata: Record<string, unknown>): string | undefined {
  const mcp = metadata.mcp as { definition_changed?: { fields?: unknown; pinned_at?: unknown }; definition_unpinned?: unknown } | undefined;
  if (typeof mcp?.definition_unpinned === 'string') return `NOT PINNED (${mcp.definition_unpinned})`;
  const dc = mcp?.definition_changed;
  if (typeof dc !== 'object' || dc === null || !Array.isArray(dc.fields)) return undefined;
  return `CHANGED since pinned ${String(dc.pinned_at)}: ${dc.fields.map(String).join(', ')} (see show --json)`;
}

export function describeAction(a: ActionView): string {
  const lines = [
    `id:          ${a.id}`,
    `status:      ${a.status}`,
    `agent:       ${safeLine(a.agent.name)}`,
    `tool:        ${safeLine(a.tool)}`,
  ];
  if (a.resource) lines.push(`resource:    ${safeLine(a.resource)}`);
  if (a.on_behalf_of) lines.push(`on behalf:   ${safeLine(a.on_behalf_of)}`);
  if (a.purpose) lines.push(`purpose:     ${safeLine(a.purpose)}`);
  const changed = definitionChange(a.metadata);
  if (changed) lines.push(`definition:  ${safeLine(changed)}`);
  lines.push(`rule:        ${a.policy.rule} (${a.policy.effect})`);
  if (a.policy.errors.length > 0) lines.push(`rule errors: ${a.policy.errors.map((e) => `${e.rule}: ${safeLine(e.message)}`).join('; ')}`);
  if (a.workflow && a.status === 'pending') {
    const s = a.workflow.stage;
    const who = [...s.approvers.users, ...s.approvers.groups.map((g) => `group ${g}`), ...s.approvers.roles.map((r) => `role ${r}`)];
    if (s.approvers.owner) who.push("the agent's owner");
    lines.push(`workflow:    ${a.workflow.name}, stage ${s.name} (${s.index + 1} of ${s.of})`);
    lines.push(
      `approvals:   ${s.approvals.length} of ${s.quorum}${s.approvals.length ? ` (${s.approvals.join(', ')})` : ''}; needs ${who.join(', ')}`,
    );
    if (s.timeout_at) lines.push(`stage ends:  ${s.timeout_at}`);
  }
  if (a.grant_id) lines.push(`grant:       ${a.grant_id}`);
  lines.push(`created:     ${a.created_at}`);
  if (a.expires_at && a.status === 'pending') lines.push(`expires:     ${a.expires_at}`);
  if (a.decided_by) lines.push(`decided by:  ${safeLine(a.decided_by.label ?? a.decided_by.type)} at ${a.decided_at}`);
  if (a.reason) lines.push(`reason:      ${safeLine(a.reason)}`);
  lines.push('arguments:', safeText(JSON.stringify(a.arguments, null, 2)));
  if (a.original_arguments) lines.push('original arguments (before edit):', safeText(JSON.stringify(a.original_arguments, null, 2)));
  return lines.join('\n');
}

const FOR_HELP = 'vote for this person under a delegation of theirs you hold (the vote counts as theirs)';

export function registerReview(program: Command, out: (s: string) => void): void {
  program
    .command('ls')
    .description('list actions (uses COUNTERSIGN_URL and COUNTERSIGN_KEY)')
    .option('--status <status>', 'pending | approved | denied | expired | cancelled | executed | failed')
    .option('--agent <name>', 'only this agent')
    .option('--tool <name>', 'only this tool')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (o: { status?: string; agent?: string; tool?: string; limit: string; json?: boolean }) => {
      const q = new URLSearchParams();
      if (o.status) q.set('status', o.status);
      if (o.agent) q.set('agent', o.agent);
      if (o.tool) q.set('tool', o.tool);
      q.set('limit', o.limit);
      const page = await ApiClient.fromEnv().request<{ items: ActionView[] }>('GET', `/v1/actions?${q}`);
      if (o.json) return out(safeJson(page));
      if (page.items.length === 0) return out('no actions');
      out(
        table([
          ['ID', 'STATUS', 'AGENT', 'TOOL', 'CREATED'],
          ...page.items.map((a) => [a.id, a.status, safeText(a.agent.name), safeText(a.tool), ago(a.created_at)]),
        ]),
      );
    });

  program
    .command('show <id>')
    .description('show one action')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const a = await ApiClient.fromEnv().request<ActionView>('GET', `/v1/actions/${encodeURIComponent(id)}`);
      out(o.json ? safeJson(a) : describeAction(a));
    });

  program
    .command('approve <id>')
    .description('approve a pending action, optionally with edited arguments')
    .option('--reason <text>', 'why')
    .option('--args <json>', 'edited arguments (a JSON object) to run instead of the proposed ones')
    .option('--for <email>', FOR_HELP)
    .action(async (id: string, o: { reason?: string; args?: string; for?: string }) => {
      const body = {
        decision: 'approve',
        ...(o.reason ? { reason: o.reason } : {}),
        ...(o.args ? { arguments: parseArgsJson(o.args) } : {}),
        ...(o.for ? { for: o.for } : {}),
      };
      const a = await ApiClient.fromEnv().request<ActionView>('POST', `/v1/actions/${encodeURIComponent(id)}/reviews`, body);
      out(`approved ${a.id}${a.edited ? ' with edited arguments' : ''}${o.for ? ` for ${safeLine(o.for)}` : ''}`);
    });

  program
    .command('deny <id>')
    .description('deny a pending action; the reason is handed back to the agent')
    .requiredOption('--reason <text>', 'why (the agent sees this)')
    .option('--for <email>', FOR_HELP)
    .action(async (id: string, o: { reason: string; for?: string }) => {
      const a = await ApiClient.fromEnv().request<ActionView>('POST', `/v1/actions/${encodeURIComponent(id)}/reviews`, {
        decision: 'deny',
        reason: o.reason,
        ...(o.for ? { for: o.for } : {}),
      });
      out(`denied ${a.id}${o.for ? ` for ${safeLine(o.for)}` : ''}`);
    });

  program
    .command('whoami')
    .description('show who the COUNTERSIGN_KEY belongs to')
    .action(async () => {
      const me = await ApiClient.fromEnv().request<Record<string, unknown>>('GET', '/v1/me');
      out(safeJson(me));
    });
}
