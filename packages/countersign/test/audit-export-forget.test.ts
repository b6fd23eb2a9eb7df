import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { listAuditExports } from '../src/audit-export/list-exports.js';
import { claimSink, ensureSink } from '../src/audit-export/sink-lease.js';
import { AuditExportConfigSchema, resolveAuditExport } from '../src/config/audit-export-schema.js';
import { auditRows, call, cliEnvFor, forEachDialect, runCli, type World, world } from './helpers.js';

// A SIEM sink taken out of every node's configuration keeps its row (and its lag in `audit sinks`) until
// an admin removes it; the removal is refused while anything could still be streaming it.

forEachDialect('forgetting a retired audit export sink', (dialect) => {
  let w: World;
  const forget = (name: string, key: string) => call(w, 'POST', `/v1/admin/audit-export/${name}/forget`, key);
  const names = async () => (await listAuditExports(w.gw.deps, { type: 'system', id: null })).map((s) => s.name);

  before(async () => {
    // One sink this node still configures (a syslog receiver that is never there: it only has to be named).
    const file = AuditExportConfigSchema.parse({
      sinks: [{ name: 'current', type: 'syslog', host: '127.0.0.1', port: 9, start_at: 'head' }],
    });
    w = await world(dialect, { config: (c) => ({ ...c, auditExport: resolveAuditExport(file, {}, c.dataDir, 30_000) }) });
    await ensureSink(w.gw.deps, 'retired', 'head');
    await ensureSink(w.gw.deps, 'busy', 'head');
  });

  after(async () => {
    await w?.close();
  });

  test('an admin removes a sink no node configures; the audit entry keeps the position it had reached', async () => {
    const res = await forget('retired', w.keys.ada);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body;
    assert.equal(body.name, 'retired');
    assert.equal(typeof body.cursor, 'number');
    assert.ok(!(await names()).includes('retired'));
    const entry = (await auditRows(w)).find((r) => r.event === 'audit_export.sink_forgotten');
    assert.ok(entry, 'the removal is audited');
    assert.deepEqual(JSON.parse(entry.data as string), { sink: 'retired', cursor: body.cursor, cursor_hash: body.cursor_hash });
    assert.equal((await forget('retired', w.keys.ada)).status, 404, 'a second removal finds nothing');
  });

  test('a sink this node still configures is refused with a conflict, and its row stays', async () => {
    const res = await forget('current', w.keys.ada);
    assert.equal(res.status, 409);
    assert.match(res.body.error.message, /still in this node's audit_export\.sinks/);
    assert.ok((await names()).includes('current'));
  });

  test('a sink another node is streaming (its lease live) is refused with a conflict', async () => {
    assert.equal((await claimSink(w.gw.deps, 'busy', 'node-b', 30_000)).held, true);
    const res = await forget('busy', w.keys.ada);
    assert.equal(res.status, 409);
    assert.match(res.body.error.message, /being streamed by node-b/);
    assert.ok((await names()).includes('busy'));
  });

  test('a reviewer may not remove a sink, and nothing is removed or audited', async () => {
    const before = (await auditRows(w)).length;
    assert.equal((await forget('busy', w.keys.alice)).status, 403);
    assert.ok((await names()).includes('busy'));
    assert.equal((await auditRows(w)).length, before);
  });

  test('the operator removes one from the server with `countersign audit forget-sink`', async () => {
    await ensureSink(w.gw.deps, 'old-splunk', 'head');
    const cli = await runCli(['audit', 'forget-sink', 'old-splunk'], cliEnvFor(w));
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /forgot sink old-splunk/);
    assert.ok(!(await names()).includes('old-splunk'));
  });
});
