/**
 * SIEM export throughput: how fast a gateway streams an audit log that is already written (a sink added
 * to a running deployment starts at genesis and catches up) to each sink type, against the local
 * receivers the tests use (which parse and check every entry, so they cost CPU on the same machine too).
 * Per dialect: seeds BENCH_ENTRIES entries (~300 bytes of data each), then for each sink starts a gateway
 * with only that sink and times it from start to caught up, printing entries/s and batches.
 *
 *   node --import tsx bench/audit-export.ts   # BENCH_DIALECTS=sqlite,postgres BENCH_ENTRIES=20000 BENCH_BATCH=100
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuditExportConfigSchema, resolveAuditExport } from '../packages/countersign/src/config/audit-export-schema.js';
import { startGateway } from '../packages/countersign/src/gateway.js';
import { HecReceiver, OtlpReceiver } from '../packages/countersign/test/siem-http-receivers.js';
import { makeCertificates, SyslogReceiver, verifyReceived } from '../packages/countersign/test/siem-receivers.js';
import { benchDatabase } from './bench-database.js';

const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',');
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 20_000);
const TOKEN = 'bench-token';
const BATCH = Number(process.env.BENCH_BATCH ?? 100);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-siem-'));
  const certs = makeCertificates(dir);
  try {
    for (const dialect of DIALECTS) await run(dialect, dir, certs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(dialect: string, dir: string, certs: ReturnType<typeof makeCertificates>): Promise<void> {
  const db = benchDatabase(dialect, 'siem');
  const logger = pino({ level: 'silent' });
  const opts = { listen: false, logger, ...(db.schema ? { schema: db.schema } : {}) };
  try {
    const seeder = await startGateway(db.config, opts);
    const t0 = performance.now();
    for (let done = 0; done < ENTRIES; done += 500) {
      await seeder.deps.committer.run(async (tx) => {
        for (let i = done; i < Math.min(ENTRIES, done + 500); i++) {
          tx.audit({
            actor: { type: 'system', id: null },
            event: 'bench.entry',
            data: { i, tool: 'deploy', arguments: { service: 'payments', version: `1.${i}.0`, note: 'x'.repeat(200) } },
          });
        }
      });
    }
    const head = Number((await seeder.deps.db.read.selectFrom('chain_head').select('audit_seq').executeTakeFirstOrThrow()).audit_seq);
    console.log(`[${dialect}] seeded ${head} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await seeder.close();

    const sinks = [
      { receiver: new SyslogReceiver({ key: certs.serverKey, cert: certs.serverCert, ca: certs.ca }), type: 'syslog (TLS)' },
      { receiver: new HecReceiver(TOKEN, false), type: 'hec' },
      { receiver: new HecReceiver(TOKEN, true), type: 'hec (acks)' },
      { receiver: new OtlpReceiver(), type: 'otlp' },
    ];
    for (const [i, { receiver, type }] of sinks.entries()) {
      await receiver.start();
      const url = `http://127.0.0.1:${receiver.port}`;
      const name = `bench${i}`;
      const sink =
        receiver instanceof SyslogReceiver
          ? {
              name,
              type: 'syslog',
              host: '127.0.0.1',
              port: receiver.port,
              tls: { ca_file: certs.paths.ca, cert_file: certs.paths.clientCert, key_file: certs.paths.clientKey },
            }
          : receiver instanceof HecReceiver
            ? { name, type: 'hec', url, ack: type === 'hec (acks)' }
            : { name, type: 'otlp', url };
      const auditExport = resolveAuditExport(
        AuditExportConfigSchema.parse({ sinks: [{ ...sink, batch_size: BATCH }] }),
        { [`COUNTERSIGN_AUDIT_EXPORT_${name.toUpperCase()}_TOKEN`]: TOKEN },
        dir,
        30_000,
      );
      const started = performance.now();
      const gw = await startGateway({ ...db.config, auditExport }, opts);
      await gw.auditExport.tick();
      const seconds = (performance.now() - started) / 1000;
      await gw.close();
      await receiver.close();
      verifyReceived(receiver.got, head);
      if (receiver.problems.length > 0) throw new Error(`${type}: ${receiver.problems[0]}`);
      const batches = receiver.batches.length || Math.ceil(head / BATCH);
      console.log(
        `[${dialect}] ${type.padEnd(13)} ${head} entries in ${seconds.toFixed(2)} s: ${Math.round(head / seconds)} entries/s, ${batches} batches of ${BATCH}`,
      );
    }
  } finally {
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
