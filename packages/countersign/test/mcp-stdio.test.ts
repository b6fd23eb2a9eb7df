/*
 * `countersign mcp proxy` over stdio, driven by the MCP SDK's own client, in front of real MCP
 * servers from npm that we did not write: @modelcontextprotocol/server-filesystem (twice, so tool
 * names collide) and @modelcontextprotocol/server-memory, in one proxy configured by file.
 * The gateway is real (in-process, listening); reviews go through its HTTP API.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { canonicalJson, sha256Hex } from '../src/lib/canonical.js';
import { auditRows, call, review, type World, world } from './helpers.js';
import {
  actionsOf,
  connectStdio,
  FS_SERVER,
  MEMORY_SERVER,
  proxyEnv,
  sleep,
  tempDir,
  textOf,
  waitForAction,
  waitForStatus,
  writeConfig,
} from './mcp-helpers.js';

const BUDGET_MS = 1500;

describe('MCP proxy over stdio: filesystem + memory servers', () => {
  let w: World;
  let client: Client;
  const tmp = tempDir();
  const dirA = join(tmp.dir, 'a');
  const dirB = join(tmp.dir, 'b');
  const pinsFile = join(tmp.dir, 'pins.json');

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    mkdirSync(dirA);
    mkdirSync(dirB);
    writeFileSync(join(dirA, 'hello.txt'), 'hello from a');
    writeFileSync(join(dirB, 'hello.txt'), 'hello from b');
    seedChangedPin(pinsFile);
    const config = writeConfig(tmp.dir, {
      servers: [
        { name: 'fs', command: process.execPath, args: [FS_SERVER, dirA] },
        { name: 'memory', command: process.execPath, args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: join(tmp.dir, 'memory.jsonl') } },
        { name: 'fs2', command: process.execPath, args: [FS_SERVER, dirB] },
      ],
      hold: { budget: `${BUDGET_MS}ms`, progress_budget: '6s', progress_interval: '200ms' },
      pins_file: pinsFile,
    });
    const overrides = join(tmp.dir, 'with-overrides.yaml');
    writeFileSync(
      overrides,
      readFileSync(config, 'utf8').replace(
        'name: memory\n',
        'name: memory\n      tools:\n        create_relations:\n          annotations:\n            readOnlyHint: true\n',
      ),
    );
    client = await connectStdio(['--config', overrides], proxyEnv(w));
  });

  after(async () => {
    await client?.close();
    await w?.close();
    tmp.cleanup();
  });

  test('lists every upstream tool under its own name, prefixing only a name already taken', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const n of ['read_text_file', 'write_file', 'create_entities', 'read_graph', 'countersign_status', 'countersign_wait']) {
      assert.ok(names.includes(n), `${n} listed`);
    }
    assert.ok(names.includes('fs2__read_text_file') && names.includes('fs2__write_file'), 'the second filesystem server is prefixed');
    assert.equal(names.filter((n) => n === 'read_text_file').length, 1);
  });

  test('a read-only tool passes straight through, recorded at the gateway as an executed action', async () => {
    const r = await client.callTool({ name: 'read_text_file', arguments: { path: join(dirA, 'hello.txt') } });
    assert.equal(r.isError, undefined);
    assert.equal(textOf(r), 'hello from a');
    assert.deepEqual(r.structuredContent, { content: 'hello from a' }, 'structured content is returned as the server sent it');
    const [listed] = await actionsOf(w, 'read_text_file');
    const action = await waitForStatus(w, listed.id, 'executed');
    assert.equal(action.resource, 'fs');
    assert.equal(action.annotations.readOnlyHint, true);
    assert.equal(action.result.outcome, 'succeeded');
    assert.ok(action.redeemed_at, 'its approval receipt was redeemed before it ran');
    const audit = (await auditRows(w, listed.id)).map((e) => e.event);
    assert.deepEqual(
      audit.filter((e) => e.startsWith('receipt.')),
      ['receipt.issued', 'receipt.redeemed'],
      'redeemed once, with its proposal: no second request before it ran',
    );
    assert.equal(audit.indexOf('receipt.redeemed') < audit.indexOf('action.executed'), true);
  });

  test('a prefixed tool reaches its own server; the gateway sees the upstream tool name and server', async () => {
    const r = await client.callTool({ name: 'fs2__read_text_file', arguments: { path: join(dirB, 'hello.txt') } });
    assert.equal(textOf(r), 'hello from b');
    const fs2 = (await actionsOf(w, 'read_text_file')).find((a) => a.resource === 'fs2');
    assert.equal((await waitForStatus(w, fs2.id, 'executed')).metadata.mcp.exposed_name, 'fs2__read_text_file');
  });

  test('write_file is held; approved, the file is written with the approved content; progress says who and where', async () => {
    const file = join(dirA, 'approved.txt');
    const progress: { message?: string }[] = [];
    const pending = client.callTool(
      { name: 'write_file', arguments: { path: file, content: 'as proposed' } },
      { onprogress: (p) => progress.push(p) },
    );
    const action = await waitForAction(w, 'write_file');
    assert.equal(action.annotations.readOnlyHint, false);
    assert.equal(action.resource, 'fs');
    assert.equal(existsSync(file), false, 'nothing written while held');
    await sleep(300);
    assert.equal((await review(w, action.id, w.keys.alice, { decision: 'approve' })).status, 200);
    const r = await pending;
    assert.notEqual(r.isError, true, textOf(r));
    assert.equal(readFileSync(file, 'utf8'), 'as proposed');
    const message = progress.at(-1)?.message ?? '';
    assert.match(message, /^waiting for approval by role reviewer, id /);
    assert.ok(message.includes(action.id) && message.includes(`${w.gw.url}/actions/${action.id}`), message);
    assert.ok((await waitForStatus(w, action.id, 'executed')).redeemed_at, 'redeemed before it ran');
  });

  test('edited on approval, the file gets the edited content', async () => {
    const file = join(dirA, 'edited.txt');
    const pending = client.callTool({ name: 'write_file', arguments: { path: file, content: 'proposed' } }, { onprogress: () => {} });
    const action = await waitForAction(w, 'write_file');
    await review(w, action.id, w.keys.alice, { decision: 'approve', arguments: { path: file, content: 'edited by alice' } });
    const r = await pending;
    assert.notEqual(r.isError, true, textOf(r));
    assert.equal(readFileSync(file, 'utf8'), 'edited by alice');
  });

  test('denied, nothing is written and the reason comes back as an error result', async () => {
    const file = join(dirA, 'denied.txt');
    const pending = client.callTool({ name: 'write_file', arguments: { path: file, content: 'x' } }, { onprogress: () => {} });
    const action = await waitForAction(w, 'write_file');
    await review(w, action.id, w.keys.alice, { decision: 'deny', reason: 'no writes on Fridays' });
    const r = await pending;
    assert.equal(r.isError, true);
    assert.match(textOf(r), /^NOT EXECUTED — Denied by alice@example\.com: no writes on Fridays/);
    assert.equal(existsSync(file), false);
  });

  test('without a progress token: after the budget NOT EXECUTED, status/wait tools, then the identical retry runs once', async () => {
    const file = join(dirA, 'later.txt');
    const args = { path: file, content: 'eventually' };
    const first = await client.callTool({ name: 'write_file', arguments: args });
    assert.equal(first.isError, true);
    const action = await waitForAction(w, 'write_file');
    const url = `${w.gw.url}/actions/${action.id}`;
    assert.ok(textOf(first).startsWith(`NOT EXECUTED — pending approval ${action.id} (${url})`), textOf(first));
    assert.equal(existsSync(file), false);

    const status = await client.callTool({ name: 'countersign_status', arguments: { id: action.id } });
    assert.match(textOf(status), /^PENDING — /);
    const waiting = client.callTool({ name: 'countersign_wait', arguments: { id: action.id } });
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    assert.match(textOf(await waiting), /^APPROVED — /);
    assert.equal(existsSync(file), false, 'approval alone runs nothing');

    // Same arguments in another key order: still the identical call.
    const retry = await client.callTool({ name: 'write_file', arguments: { content: 'eventually', path: file } });
    assert.notEqual(retry.isError, true, textOf(retry));
    assert.equal(readFileSync(file, 'utf8'), 'eventually');
    await waitForStatus(w, action.id, 'executed');
    assert.equal((await actionsOf(w, 'write_file')).filter((a) => a.arguments.path === file).length, 1, 'the retry attached');

    // Settled: doing it again is a new proposal, not a second run of the old approval.
    writeFileSync(file, 'changed since');
    const again = await client.callTool({ name: 'write_file', arguments: args });
    assert.match(textOf(again), /^NOT EXECUTED — pending approval /);
    assert.equal(readFileSync(file, 'utf8'), 'changed since');
    const statuses = (await actionsOf(w, 'write_file')).filter((a) => a.arguments.path === file).map((a) => a.status);
    assert.deepEqual(statuses, ['pending', 'executed']);
    await call(w, 'POST', `/v1/actions/${(await waitForAction(w, 'write_file')).id}/reviews`, w.keys.alice, {
      decision: 'deny',
      reason: 'done',
    });
  });

  test('an approval whose receipt another runner already redeemed is never run again', async () => {
    const file = join(dirA, 'once.txt');
    const args = { path: file, content: 'once' };
    assert.match(textOf(await client.callTool({ name: 'write_file', arguments: args })), /^NOT EXECUTED — pending approval /);
    const pending = await waitForAction(w, 'write_file');
    const approved = (await review(w, pending.id, w.keys.alice, { decision: 'approve' })).body;
    const { id, tool, arguments: a, resource, receipt } = approved;
    const redeemed = await call(w, 'POST', '/v1/receipts/redeem', w.keys.agent, { receipt, action: { id, tool, arguments: a, resource } });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    const retry = await client.callTool({ name: 'write_file', arguments: args });
    assert.equal(retry.isError, true);
    assert.match(textOf(retry), /already started once and may have run; it is never run twice/);
    assert.equal(existsSync(file), false);
  });

  test('a call the client cancels before approval is withdrawn and never runs', async () => {
    const file = join(dirA, 'cancelled.txt');
    const ac = new AbortController();
    const pending = client.callTool(
      { name: 'write_file', arguments: { path: file, content: 'never' } },
      { signal: ac.signal, onprogress: () => {} },
    );
    const action = await waitForAction(w, 'write_file');
    ac.abort();
    await assert.rejects(pending);
    const cancelled = await waitForAction(w, 'write_file', 'cancelled');
    assert.equal(cancelled.id, action.id);
    assert.equal((await review(w, action.id, w.keys.alice, { decision: 'approve' })).status, 409, 'nothing left to approve');
    // The identical call again is a fresh proposal, never the withdrawn one.
    const again = await client.callTool({ name: 'write_file', arguments: { path: file, content: 'never' } });
    assert.match(textOf(again), /^NOT EXECUTED — pending approval /);
    assert.notEqual((await waitForAction(w, 'write_file')).id, action.id);
    assert.equal(existsSync(file), false);
    await review(w, (await waitForAction(w, 'write_file')).id, w.keys.alice, { decision: 'deny', reason: 'tidy' });
  });

  test('a hold outlives the client request time-out while progress keeps it alive', async () => {
    const file = join(dirA, 'slow.txt');
    const started = Date.now();
    const pending = client.callTool(
      { name: 'write_file', arguments: { path: file, content: 'slow approval' } },
      { timeout: 800, resetTimeoutOnProgress: true, onprogress: () => {} },
    );
    const action = await waitForAction(w, 'write_file');
    await sleep(Math.max(0, 1800 - (Date.now() - started)));
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    const r = await pending;
    assert.notEqual(r.isError, true, textOf(r));
    assert.equal(readFileSync(file, 'utf8'), 'slow approval');
  });

  test('memory server: create_entities is held until approved; read_graph passes through', async () => {
    const pending = client.callTool(
      {
        name: 'create_entities',
        arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program'] }] },
      },
      { onprogress: () => {} },
    );
    const action = await waitForAction(w, 'create_entities');
    assert.equal(action.resource, 'memory');
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    assert.notEqual((await pending).isError, true);
    const graph = await client.callTool({ name: 'read_graph', arguments: {} });
    assert.match(textOf(graph), /Ada/);
    await waitForStatus(w, (await actionsOf(w, 'read_graph'))[0].id, 'executed');
  });

  test("an operator's per-tool override is what classifies the call", async () => {
    const r = await client.callTool({
      name: 'create_relations',
      arguments: { relations: [{ from: 'Ada', to: 'Ada', relationType: 'admires' }] },
    });
    assert.notEqual(r.isError, true, textOf(r));
    const [listed] = await actionsOf(w, 'create_relations');
    const action = await waitForStatus(w, listed.id, 'executed'); // readOnlyHint: true from the config: the default policy allows it
    assert.equal(action.annotations.readOnlyHint, true);
  });

  test('a tool whose definition differs from its pin goes to review, whatever it claims', async () => {
    const listed = (await client.listTools()).tools.find((t) => t.name === 'get_file_info');
    assert.equal(listed?.annotations?.readOnlyHint, false, 'listed with the hints its calls get');
    const r = await client.callTool({ name: 'get_file_info', arguments: { path: join(dirA, 'hello.txt') } });
    assert.match(textOf(r), /^NOT EXECUTED — pending approval /);
    const action = await waitForAction(w, 'get_file_info');
    assert.deepEqual(action.annotations, { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
    assert.deepEqual(action.metadata.mcp.definition_changed.fields, ['description', 'annotations']);
    assert.equal(action.metadata.mcp.definition_changed.pinned.description, 'Old, harmless description');
    const pins = JSON.parse(readFileSync(pinsFile, 'utf8'));
    assert.equal(pins.servers.fs.get_file_info.description, 'Old, harmless description', 'the pin is not replaced');
    assert.ok(pins.servers.fs.read_text_file, 'first-seen tools were pinned');
  });

  test('when the client goes away, what it left waiting is withdrawn', async () => {
    const pending = client
      .callTool({ name: 'write_file', arguments: { path: join(dirA, 'orphan.txt'), content: 'x' } })
      .catch(() => 'closed');
    const action = await waitForAction(w, 'write_file');
    await client.close();
    await pending;
    const deadline = Date.now() + 5000;
    let status = 'pending';
    while (status === 'pending' && Date.now() < deadline) {
      await sleep(50);
      status = (await call(w, 'GET', `/v1/actions/${action.id}`, w.keys.alice)).body.status;
    }
    assert.equal(status, 'cancelled');
    assert.equal(existsSync(join(dirA, 'orphan.txt')), false);
  });
});

/** A pin for fs/get_file_info as it "used to be", so today's definition no longer matches it. */
function seedChangedPin(file: string): void {
  const old = { description: 'Old, harmless description', annotations: { readOnlyHint: true, destructiveHint: false } };
  const fingerprint = sha256Hex(canonicalJson({ annotations: old.annotations, description: old.description }));
  const pins = { version: 1, servers: { fs: { get_file_info: { ...old, fingerprint, pinned_at: '2026-01-01T00:00:00.000Z' } } } };
  writeFileSync(file, JSON.stringify(pins));
}
