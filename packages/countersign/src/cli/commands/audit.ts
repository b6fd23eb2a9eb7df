import { once } from 'node:events';
import { createWriteStream, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { forgetAuditSink } from '../../audit-export/forget-sink.js';
import { listAuditExports } from '../../audit-export/list-exports.js';
import { exportAudit } from '../../domain/audit/export-audit.js';
import { latestCheckpoint } from '../../domain/audit/latest-checkpoint.js';
import type { AuditVerifyResult } from '../../domain/audit/verify-audit.js';
import { verifyExport } from '../../domain/audit/verify-export.js';
import { verifyLiveAudit } from '../../domain/audit/verify-live.js';
import { CsError } from '../../lib/errors.js';
import { type DataOptions, withLocalDeps } from '../context.js';
import { safeJson, safeLine, table } from '../output.js';

const collect = (value: string, prev: string[]) => [...prev, value];

interface VerifyOptions extends DataOptions {
  file?: string;
  checkpoint: string[];
  jwks?: string;
}

/** One line on success; on failure an error naming the first bad sequence number (exit 6, conflict). */
function report(r: AuditVerifyResult, out: (s: string) => void, offline: boolean): void {
  const bad = r.firstBad;
  if (!r.ok && bad) {
    // Checkpoint findings come after the walk; "verified before it" would mislead there.
    const walked = bad.kind === 'forged_checkpoint' || bad.kind === 'rewritten' ? '' : ` (${r.entries} entries verified before it)`;
    throw new CsError('conflict', `audit chain broken at entry ${bad.seq}: ${bad.problem}${walked}`, {
      details: { seq: bad.seq, kind: bad.kind },
    });
  }
  const cp = r.checkpoints.latest;
  const signed = cp
    ? `${r.checkpoints.matched} signed checkpoint${r.checkpoints.matched === 1 ? '' : 's'} match (latest: size ${cp.size}, key ${cp.kid})` +
      (r.headSeq > cp.size ? `; entries ${cp.size + 1}..${r.headSeq} are not covered by a checkpoint yet` : '')
    : offline
      ? 'no checkpoint given: only the chain’s internal consistency was checked'
      : 'no signed checkpoint yet';
  out(`ok: ${r.entries} entries verified; ${signed}; head ${r.headHash}`);
}

export function registerAudit(program: Command, out: (s: string) => void): void {
  const audit = program.command('audit').description('inspect the hash-chained audit log');
  audit
    .command('verify')
    .description('check the chain from genesis and every signed checkpoint; name the first bad entry')
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file (YAML)')
    .option('--file <export.jsonl>', 'offline: verify this `audit export` file instead of the database')
    .option('--checkpoint <file>', 'offline: a signed checkpoint the export must match (repeatable)', collect, [])
    .option('--jwks <file>', 'offline: the trusted public keys, as GET /.well-known/jwks.json serves them')
    .action(async (o: VerifyOptions) => {
      if (o.file === undefined) {
        if (o.checkpoint.length > 0 || o.jwks) throw new CsError('invalid_request', '--checkpoint and --jwks go with --file (offline)');
        // The connection lets worker threads verify stretches of a long chain in parallel. A running gateway
        // may append meanwhile: what it commits during the walk is not a truncated tail (verify-live.ts).
        const r = await withLocalDeps(o, (deps) => verifyLiveAudit(deps.db.read, { connection: { url: deps.config.database.url } }));
        report(r, out, false);
        return;
      }
      report(await verifyExport({ file: o.file, checkpointFiles: o.checkpoint, jwksFile: o.jwks }), out, true);
    });
  audit
    .command('checkpoint')
    .description('print (or save) the latest signed checkpoint, for offline verification or a witness')
    .option('--out <file>', 'file to write (default: stdout)')
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file (YAML)')
    .action(async (o: DataOptions & { out?: string }) => {
      const cp = await withLocalDeps(o, (deps) => latestCheckpoint(deps.db.read));
      if (o.out === undefined) {
        process.stdout.write(cp.note);
        return;
      }
      writeFileSync(o.out, cp.note);
      out(`wrote checkpoint ${cp.size} (key ${cp.kid}) to ${o.out}`);
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
  audit
    .command('sinks')
    .description('SIEM sinks streaming the log (audit_export): position, lag, the node streaming each, the last error')
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file (YAML)')
    .option('--json', 'print JSON')
    .action(async (o: DataOptions & { json?: boolean }) => {
      const items = await withLocalDeps(o, (deps, actor) => listAuditExports(deps, actor));
      if (o.json) return out(safeJson(items));
      if (items.length === 0) return out('no audit export sinks have run');
      out(
        table([
          ['NAME', 'CURSOR', 'HEAD', 'LAG', 'LAG_MS', 'ATTEMPTS', 'HELD BY', 'LAST ERROR'],
          ...items.map((s) => [
            s.name,
            String(s.cursor),
            String(s.head),
            String(s.lag_entries),
            String(s.lag_ms),
            String(s.attempts),
            s.lease_owner ?? '-',
            // A receiver's answer is quoted in it: shown as inert text, on one line.
            s.last_error === null ? '-' : safeLine(s.last_error),
          ]),
        ]),
      );
    });
  audit
    .command('forget-sink <name>')
    .description("remove a retired SIEM sink (taken out of every node's audit_export.sinks) from `audit sinks` (audited)")
    .option('--data <dir>', 'data directory')
    .option('--config <file>', 'config file (YAML)')
    .action(async (name: string, o: DataOptions) => {
      const f = await withLocalDeps(o, (deps, actor) => forgetAuditSink(deps, actor, name));
      out(`forgot sink ${f.name} (it had taken the log up to entry ${f.cursor})`);
    });
}
