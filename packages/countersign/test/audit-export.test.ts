import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { listAuditExports } from '../src/audit-export/list-exports.js';
import { formatSyslog, octetCounted } from '../src/audit-export/syslog-frame.js';
import { AuditExportConfigSchema, resolveAuditExport } from '../src/config/audit-export-schema.js';
import { type Config, ConfigFileSchema } from '../src/config/schema.js';
import { addUser } from '../src/domain/identities/add-user.js';
import { type Gateway, startGateway } from '../src/gateway.js';
import { FakeClock } from '../src/lib/clock.js';
import { ADMIN, cliEnvFor, forEachDialect, REPO_ROOT, runCli, type TestEnv, testEnv, type World } from './helpers.js';
import { openRaw } from './raw-db.js';
import { HecReceiver, OtlpReceiver } from './siem-http-receivers.js';
import { makeCertificates, SyslogReceiver, verifyReceived } from './siem-receivers.js';

const TOKEN = 'b6f0c1de-6d3c-4a8e-9d47-2f1c8a1e0b11';

describe('audit export configuration', () => {
  const resolve = (sinks: unknown[], env: NodeJS.ProcessEnv = {}) =>
    resolveAuditExport(AuditExportConfigSchema.parse({ sinks }), env, '/', 30_000);

  test('a HEC sink without its token is refused at start, naming the variable to set', () => {
    assert.throws(
      () => resolve([{ name: 'splunk-prod', type: 'hec', url: 'https://splunk.example.com:8088' }]),
      /COUNTERSIGN_AUDIT_EXPORT_SPLUNK_PROD_TOKEN/,
    );
  });

  test('plain http to another host is refused unless the operator allows it', () => {
    const hec = { name: 'splunk', type: 'hec', url: 'http://splunk.example.com:8088' };
    const env = { COUNTERSIGN_AUDIT_EXPORT_SPLUNK_TOKEN: TOKEN };
    assert.throws(() => resolve([hec], env), /plain http/);
    assert.equal(resolve([{ ...hec, allow_plain_http: true }], env).sinks.length, 1);
  });

  test('OTLP headers are read like OTEL_EXPORTER_OTLP_HEADERS, and sink names are unique', () => {
    const [sink] = resolve([{ name: 'otel', type: 'otlp', url: 'https://collector:4318' }], {
      COUNTERSIGN_AUDIT_EXPORT_OTEL_HEADERS: 'Authorization=Bearer%20abc,x-scope=audit',
    }).sinks;
    assert.deepEqual(sink?.type === 'otlp' && sink.headers, { authorization: 'Bearer abc', 'x-scope': 'audit' });
    assert.throws(() =>
      AuditExportConfigSchema.parse({
        sinks: [
          { name: 'a', type: 'syslog', host: 'h', port: 514 },
          { name: 'a', type: 'syslog', host: 'h', port: 515 },
        ],
      }),
    );
  });

  test('a send time-out longer than half the lease is refused: a send must not outlive its node’s lease', () => {
    const syslog = { name: 'siem', type: 'syslog', host: 'siem.example.com', port: 6514, timeout: '20s' };
    assert.throws(() => resolve([syslog]), /more than half of events.consumer_lease/);
    assert.equal(resolveAuditExport(AuditExportConfigSchema.parse({ sinks: [syslog] }), {}, '/', 60_000).sinks.length, 1);
  });

  test('the example in docs/operations.md is a valid config', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Streaming the audit trail to a SIEM'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(yaml);
    const parsed = ConfigFileSchema.parse(parseYaml(yaml));
    assert.deepEqual(
      parsed.audit_export?.sinks.map((s) => s.type),
      ['syslog', 'hec', 'otlp'],
    );
  });

  test('a syslog frame counts bytes, not characters, and escapes structured-data values', () => {
    const entry = {
      seq: 7,
      ts: 0,
      time: '1970-01-01T00:00:00.000Z',
      actor_type: 'user',
      actor_id: 'a"b]c\\d',
      event: 'action.approved',
      action_id: null,
      data: { note: 'déjà vu' },
      prev_hash: '0'.repeat(64),
      hash: '1'.repeat(64),
    };
    const msg = formatSyslog(entry, { facility: 13, hostname: 'gw1', appName: 'countersign', sdId: 'countersign@32473' });
    assert.match(msg, / actor_id="a\\"b\\]c\\\\d"/);
    assert.ok(!msg.includes('action_id='), 'a null id is left out, not sent as "null"');
    const frame = octetCounted(msg).toString('utf8');
    assert.equal(frame, `${Buffer.byteLength(msg)} ${msg}`);
    assert.notEqual(Buffer.byteLength(msg), msg.length);
  });
});

forEachDialect('audit entries streamed to SIEMs', (dialect) => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const dir = mkdtempSync(join(tmpdir(), 'cs-siem-'));
  const certs = makeCertificates(dir);
  const syslog = new SyslogReceiver({ key: certs.serverKey, cert: certs.serverCert, ca: certs.ca });
  const hec = new HecReceiver(TOKEN, true);
  const otlp = new OtlpReceiver({ authorization: 'Bearer otlp-secret' });
  let env: TestEnv;
  let config: Config;
  let gw: Gateway;
  let users = 0;

  const start = () =>
    startGateway(config, { listen: false, logger: pino({ level: 'silent' }), clock, ...(env.schema ? { schema: env.schema } : {}) });
  const head = async () => Number((await gw.deps.db.read.selectFrom('chain_head').select('audit_seq').executeTakeFirstOrThrow()).audit_seq);
  const addPeople = async (n: number) => {
    for (let i = 0; i < n; i++) await addUser(gw.deps, ADMIN, { email: `person${++users}@example.com`, role: 'reviewer' });
  };
  const status = async (name: string) => (await listAuditExports(gw.deps, ADMIN)).find((s) => s.name === name);

  before(async () => {
    await Promise.all([syslog.start(), hec.start(), otlp.start()]);
    env = testEnv(dialect);
    const file = AuditExportConfigSchema.parse({
      sinks: [
        {
          name: 'syslog-tls',
          type: 'syslog',
          host: '127.0.0.1',
          port: syslog.port,
          tls: { ca_file: certs.paths.ca, cert_file: certs.paths.clientCert, key_file: certs.paths.clientKey },
        },
        { name: 'splunk', type: 'hec', url: hec.url, batch_size: 4, ack: true, index: 'audit' },
        { name: 'otel', type: 'otlp', url: otlp.url, batch_size: 5 },
      ],
    });
    const secrets = {
      COUNTERSIGN_AUDIT_EXPORT_SPLUNK_TOKEN: TOKEN,
      COUNTERSIGN_AUDIT_EXPORT_OTEL_HEADERS: 'authorization=Bearer otlp-secret',
    };
    config = { ...env.config, auditExport: resolveAuditExport(file, secrets, dir, 30_000) };
    gw = await start();
  });

  after(async () => {
    await gw?.close();
    await Promise.all([syslog.close(), hec.close(), otlp.close()]);
    await env?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every entry reaches syslog over mutual TLS, Splunk HEC with acknowledgements and an OTLP collector, as a chain each can verify', async () => {
    await addPeople(6);
    await gw.auditExport.tick();
    const n = await head();
    assert.ok(n >= 6);
    for (const r of [syslog, hec, otlp]) {
      assert.deepEqual(r.problems, []);
      assert.equal(verifyReceived(r.got, n).duplicates, 0);
    }
    assert.deepEqual(
      [...new Set(hec.acksAsked)].sort((a, b) => a - b),
      Array.from({ length: hec.acksIssued }, (_, i) => i),
      'every HEC batch was acknowledged before the cursor moved',
    );
    assert.ok(hec.batches.every((b) => b.length <= 4) && hec.batches.length >= Math.ceil(n / 4), 'batches of at most batch_size');
    assert.equal((await status('splunk'))?.cursor, n);
  });

  test('a receiver that is down gets the same batch again after a back-off; nothing is skipped and the other sinks carry on', async () => {
    const before = hec.got.length;
    hec.answers.push('down', 'down');
    await addPeople(3);
    await gw.auditExport.tick();
    const n = await head();
    assert.equal(hec.got.length, before, 'the refused batch was not taken');
    const stuck = await status('splunk');
    assert.equal(stuck?.attempts, 1);
    assert.match(stuck?.last_error ?? '', /503/);
    assert.ok(stuck && stuck.lag_entries > 0 && stuck.next_attempt_at !== null);
    assert.equal((await status('otel'))?.lag_entries, 0, 'one sink being down holds no other back');

    await clock.advance(1_000);
    await gw.auditExport.tick('splunk');
    assert.equal((await status('splunk'))?.attempts, 2, 'the second refusal doubles the wait');
    assert.equal(hec.got.length, before);
    await clock.advance(2_000);
    await gw.auditExport.tick('splunk');
    assert.equal(verifyReceived(hec.got, n).duplicates, 0);
    const caughtUp = await status('splunk');
    assert.deepEqual([caughtUp?.attempts, caughtUp?.last_error, caughtUp?.lag_entries], [0, null, 0]);
    const metrics = await gw.deps.metrics.registry.metrics();
    assert.match(metrics, /^countersign_audit_export_failures_total\{sink="splunk"\} 2$/m);
    assert.match(metrics, /^countersign_audit_export_lag_entries\{sink="splunk"\} 0$/m);
    assert.match(metrics, new RegExp(`^countersign_audit_export_cursor_seq\\{sink="splunk"\\} ${n}$`, 'm'));
  });

  test('admins see each sink’s position and lag over HTTP; others do not', async () => {
    const ada = await addUser(gw.deps, ADMIN, { email: `admin${++users}@example.com`, role: 'admin' });
    const rev = await addUser(gw.deps, ADMIN, { email: `rev${++users}@example.com`, role: 'reviewer' });
    const get = (key: string) =>
      gw.app.inject({ method: 'GET', url: '/v1/admin/audit-export', headers: { authorization: `Bearer ${key}` } });
    assert.equal((await get(rev.apiKey)).statusCode, 403);
    const res = await get(ada.apiKey);
    assert.equal(res.statusCode, 200);
    const items = res.json().items as { name: string; type: string; lag_entries: number; lease_owner: string | null }[];
    assert.deepEqual(
      items.map((i) => [i.name, i.type]),
      [
        ['otel', 'otlp'],
        ['splunk', 'hec'],
        ['syslog-tls', 'syslog'],
      ],
    );
    assert.ok(
      items.every((i) => i.lag_entries > 0 && i.lease_owner !== null),
      'the two new people are not sent yet',
    );

    const cli = await runCli(['audit', 'sinks', '--json'], cliEnvFor({ env, gw } as World));
    assert.equal(cli.code, 0, cli.stderr);
    // (Positions only: the CLI reads the real clock, this gateway a fake one, so leases look expired to it.)
    const listed = JSON.parse(cli.stdout) as { name: string; lag_entries: number }[];
    assert.deepEqual(
      listed.map((i) => [i.name, i.lag_entries]),
      items.map((i) => [i.name, i.lag_entries]),
      'the CLI reads the same positions from the database',
    );
  });

  test('a gateway stopped mid-send resumes after a restart where it stopped: no gap, only the interrupted batch again', async () => {
    await gw.auditExport.tick();
    otlp.answers.push('ok', 'hang');
    await addPeople(10);
    const target = await head();
    await gw.auditExport.tick('syslog-tls');
    await gw.auditExport.tick('splunk');
    const running = gw.auditExport.tick('otel');
    await otlp.hangingRequest();
    // The collector has read a batch but never answers it: the gateway stops with that send in flight.
    await gw.close();
    await running;
    const [acknowledged, interrupted] = otlp.batches.slice(-2) as [number[], number[]];
    assert.equal(interrupted.length, 5);
    assert.equal(interrupted[0], (acknowledged.at(-1) ?? 0) + 1);

    const batchesBefore = otlp.batches.length;
    gw = await start();
    assert.equal((await status('otel'))?.cursor, acknowledged.at(-1), 'the cursor held what was acknowledged, nothing more');
    await gw.auditExport.tick();
    assert.deepEqual(otlp.problems, []);
    assert.equal(otlp.batches[batchesBefore]?.[0], interrupted[0], 'the restarted gateway began with the interrupted batch');
    // At least once, de-duplicated by id: exactly the interrupted batch arrived twice, and nothing is missing.
    assert.equal(verifyReceived(otlp.got, target).duplicates, interrupted.length);
    for (const r of [syslog, hec]) assert.equal(verifyReceived(r.got, target).duplicates, 0);
  });

  test('two gateways on one database stream each sink once: one holds it, the other waits', async () => {
    const second = await start();
    try {
      const counts = [syslog.got.length, hec.got.length, otlp.got.length];
      const h0 = await head();
      await addPeople(2);
      await Promise.all([gw.auditExport.tick(), second.auditExport.tick()]);
      const n = await head();
      for (const r of [syslog, hec, otlp]) verifyReceived(r.got, n);
      assert.deepEqual(
        [syslog.got.length - (counts[0] ?? 0), hec.got.length - (counts[1] ?? 0), otlp.got.length - (counts[2] ?? 0)],
        [n - h0, n - h0, n - h0],
        'each new entry was sent once, by one node',
      );
      const owners = new Set((await listAuditExports(gw.deps, ADMIN)).map((s) => s.lease_owner));
      assert.deepEqual([...owners], [gw.consumerRunner.owner], 'the node that held the sinks keeps them');
    } finally {
      await second.close();
    }
  });

  test('an entry that does not verify is never sent: each sink stops before it until the chain is whole again', async () => {
    await gw.auditExport.tick();
    const raw = await openRaw({ env } as World);
    try {
      await raw.disableAppendOnly();
      await addPeople(3);
      const n = await head();
      const [row] = await raw.all('select * from audit_log where seq = ?', [n - 1]);
      await raw.run('update audit_log set data = ? where seq = ?', ['{"email":"mallory@example.com"}', n - 1]);
      await gw.auditExport.tick();
      for (const name of ['syslog-tls', 'splunk', 'otel']) {
        const s = await status(name);
        assert.equal(s?.cursor, n - 2, `${name} sent what verifies and stopped before the forged entry`);
        assert.match(s?.last_error ?? '', new RegExp(`audit chain broken at entry ${n - 1}`));
      }
      for (const r of [syslog, hec, otlp]) assert.ok(r.got.every((e) => e.seq < n - 1));

      await raw.run('update audit_log set data = ? where seq = ?', [row?.data, n - 1]);
      await clock.advance(1_000);
      await gw.auditExport.tick();
      for (const r of [syslog, hec, otlp]) verifyReceived(r.got, n);
    } finally {
      await raw.close();
    }
  });
});
