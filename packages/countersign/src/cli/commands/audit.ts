import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { exportAudit } from '../../domain/audit/export-audit.js';
import { verifyAudit } from '../../domain/audit/verify-audit.js';
import { CsError } from '../../lib/errors.js';
import { type DataOptions, withLocalDeps } from '../context.js';

export function registerAudit(program: Command, out: (s: string) => void): void {
  const audit = program.command('audit').description('inspect the hash-chained audit log');
  audit
    .command('verify')
    .description('walk the chain from genesis and name the first broken entry')
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file (YAML)')
    .action(async (o: DataOptions) => {
      const r = await withLocalDeps(o, (deps) => verifyAudit(deps.db.read));
      if (r.ok) {
        out(`ok: ${r.entries} entries verified; head ${r.headHash}`);
        return;
      }
      throw new CsError(
        'conflict',
        `audit chain broken at entry ${r.firstBad?.seq}: ${r.firstBad?.problem} (${r.entries} entries verified before it)`,
        {
          details: { seq: r.firstBad?.seq },
        },
      );
    });
  audit
    .command('export')
    .description('write the log as JSON lines')
    .option('--out <file>', 'file to write (default: stdout)')
    .option('--since <seq>', 'first sequence number to include')
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file (YAML)')
    .action(async (o: DataOptions & { out?: string; since?: string }) => {
      if (o.since !== undefined && !/^\d+$/.test(o.since)) throw new CsError('invalid_request', '--since must be a sequence number');
      const sink = o.out ? createWriteStream(o.out) : process.stdout;
      let n = 0;
      await withLocalDeps(o, async (deps) => {
        for await (const line of exportAudit(deps.db.read, o.since ? { since: Number(o.since) } : {})) {
          n += 1;
          if (!sink.write(line)) await once(sink, 'drain');
        }
      });
      if (o.out) {
        (sink as ReturnType<typeof createWriteStream>).end();
        await once(sink, 'finish');
        out(`wrote ${n} entries to ${o.out}`);
      }
    });
}
