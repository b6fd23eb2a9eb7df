import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseConfigFile } from '../../config/load.js';
import { acceptPin, forgetPins, listPins, type PinRow } from '../../mcp/pin-admin.js';
import { resolvePinsFile } from '../../mcp/settings.js';
import { safeJson, safeText, table } from '../output.js';

interface PinsOptions {
  pins?: string;
  config?: string;
}

/** The same file `countersign mcp proxy` would use with these flags: --pins, else the config's pins_file, else the default. */
function pinsFileOf(o: PinsOptions): string {
  const configPath = o.config ?? process.env.COUNTERSIGN_CONFIG;
  const file = o.pins === undefined ? parseConfigFile(configPath ? resolve(configPath) : undefined) : {};
  return resolvePinsFile(file.mcp, o.pins, process.cwd());
}

/** `countersign mcp pins …`: look at the pinned tool definitions, accept a changed one, or forget pins. */
export function registerMcpPins(mcp: Command, out: (s: string) => void): void {
  const pins = mcp
    .command('pins')
    .description('the tool definitions the MCP proxy pinned on first use; a changed definition sends its calls to review until accepted');
  const fileOptions = (c: Command) =>
    c
      .option('--pins <file>', "the pin file (default: the config file's mcp.pins_file, else ~/.countersign/mcp-pins.json)")
      .option('--config <file>', 'config file whose mcp.pins_file to use (default COUNTERSIGN_CONFIG)');

  fileOptions(pins.command('list').description('show every pin and whether a proxy has met a different definition since'))
    .option('--json', 'print JSON')
    .action((o: PinsOptions & { json?: boolean }) => {
      const file = pinsFileOf(o);
      const rows = listPins(file);
      if (o.json) return out(safeJson({ file, pins: rows }));
      if (rows.length === 0) return out(`no pins in ${file}`);
      out(`${file}: ${rows.length} pin(s)`);
      out(
        table([
          ['SERVER', 'TOOL', 'PINNED', 'DEFINITION'],
          ...rows.map((r) => [safeText(r.server), safeText(r.tool), r.pinned_at, describe(r)]),
        ]),
      );
      const changed = rows.filter((r) => r.changed !== null).length;
      if (changed > 0) out(`${changed} changed: their calls go to review. Accept with: countersign mcp pins accept SERVER TOOL`);
    });

  fileOptions(
    pins
      .command('accept <server> <tool>')
      .description('pin the changed definition a proxy last met for this tool, so its calls are classified by its own hints again'),
  ).action((server: string, tool: string, o: PinsOptions) => {
    const file = pinsFileOf(o);
    const r = acceptPin(file, server, tool, new Date());
    const name = `"${safeText(tool)}" of "${safeText(server)}"`;
    if (!r.accepted) {
      return out(`${name} matches its pin: nothing to accept (to re-pin whatever the server offers next: countersign mcp pins forget)`);
    }
    out(`accepted the definition of ${name} seen at ${r.seen_at} (changed: ${r.fields.join(', ')}); pinned in ${file}`);
  });

  fileOptions(
    pins
      .command('forget <server> [tool]')
      .description("remove a tool's pin (or every pin of a server); the next use pins the definition the server offers then"),
  ).action((server: string, tool: string | undefined, o: PinsOptions) => {
    const file = pinsFileOf(o);
    const removed = forgetPins(file, server, tool);
    out(`forgot ${removed.length} pin(s) of "${safeText(server)}": ${removed.map(safeText).join(', ') || '-'}`);
  });
}

function describe(r: PinRow): string {
  if (r.changed !== null) return `CHANGED (${r.changed.join(', ')}) seen ${r.seen_at}`;
  return r.schema_recorded ? 'no change seen' : 'no change seen (schema not recorded yet)';
}
