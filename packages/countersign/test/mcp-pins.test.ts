/*
 * Pinned tool definitions: the input and output schemas are pinned with the text and hints, a
 * version 1 pin file upgrades without sending anything to review, and an operator sees and
 * accepts a change with `countersign mcp pins`. Real proxy, upstream and CLI processes.
 */
// biome-ignore-all lint/suspicious/noExplicitAny: pin file and gateway JSON; the tests assert their shape
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client, Tool } from '@modelcontextprotocol/client';
import { canonicalJson, sha256Hex } from '../src/lib/canonical.js';
import { PinStore } from '../src/mcp/pins.js';
import { review, runCli, type World, world } from './helpers.js';
import { connectStdio, MUTABLE_SERVER, proxyEnv, tempDir, textOf, waitForAction, writeConfig } from './mcp-helpers.js';

const schema = (what: string) => ({ type: 'object', properties: { path: { type: 'string', description: what } }, required: ['path'] });

describe('MCP pins: schemas, and the operator CLI', () => {
  let w: World;
  const tmp = tempDir();
  const pinsFile = join(tmp.dir, 'pins.json');
  const probeFile = join(tmp.dir, 'probe.json');
  const upstreamLog = join(tmp.dir, 'upstream.log');
  let config: string;
  let client: Client | undefined;
  const pins = () => JSON.parse(readFileSync(pinsFile, 'utf8'));
  const cli = (...args: string[]) => runCli(['mcp', 'pins', ...args], proxyEnv(w));

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'] });
    writeFileSync(probeFile, JSON.stringify({ inputSchema: schema('the file to read') }));
    config = writeConfig(tmp.dir, {
      servers: [
        {
          name: 'mutable',
          command: process.execPath,
          args: ['--import', 'tsx', MUTABLE_SERVER, '--probe-file', probeFile, '--log', upstreamLog],
        },
      ],
      hold: { budget: '300ms' },
      pins_file: pinsFile,
    });
  });

  after(async () => {
    await client?.close();
    await w?.close();
    tmp.cleanup();
  });

  test("a changed input schema sends the tool's calls to review", async () => {
    const first = await connectStdio(['--config', config], proxyEnv(w));
    try {
      assert.equal(textOf(await first.callTool({ name: 'probe', arguments: { path: 'a' } })), 'probe {"path":"a"}');
    } finally {
      await first.close();
    }
    assert.equal(pins().version, 2);
    assert.deepEqual(pins().servers.mutable.probe.input_schema, schema('the file to read'));

    // Same description, same hints: only what `path` means has changed.
    writeFileSync(probeFile, JSON.stringify({ inputSchema: schema('the file to delete') }));
    client = await connectStdio(['--config', config], proxyEnv(w));
    const r = await client.callTool({ name: 'probe', arguments: { path: 'b' } });
    assert.match(textOf(r), /^NOT EXECUTED — pending approval /);
    const action = await waitForAction(w, 'probe');
    const changed = action.metadata.mcp.definition_changed;
    assert.deepEqual(changed.fields, ['input_schema']);
    assert.deepEqual(changed.pinned.input_schema, schema('the file to read'));
    assert.deepEqual(changed.current.input_schema, schema('the file to delete'));
    assert.equal(action.annotations.readOnlyHint, false, 'the spec defaults, whatever the server claims');
    assert.equal(readFileSync(upstreamLog, 'utf8').includes('"path":"b"'), false, 'not run');
    await review(w, action.id, w.keys.alice, { decision: 'deny', reason: 'not like this' });
  });

  test('pins list shows each pin, when it was pinned, and the different definition a proxy met', async () => {
    const r = await cli('list', '--config', config);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${pinsFile}: 5 pin\\(s\\)`));
    assert.match(r.stdout, /mutable\s+probe\s+\S+Z\s+CHANGED \(input_schema\) seen \S+Z/);
    assert.match(r.stdout, /mutable\s+count\s+\S+Z\s+no change seen/);
    const json = JSON.parse((await cli('list', '--pins', pinsFile, '--json')).stdout);
    assert.equal(json.file, pinsFile);
    const probe = json.pins.find((p: any) => p.tool === 'probe');
    assert.deepEqual(probe.changed, ['input_schema']);
    assert.equal(probe.schema_recorded, true);
  });

  test('pins accept re-pins the current definition', async () => {
    const before = pins().servers.mutable.probe;
    const r = await cli('accept', 'mutable', 'probe', '--config', config);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /accepted the definition of "probe" of "mutable" seen at \S+ \(changed: input_schema\)/);
    const after = pins().servers.mutable.probe;
    assert.deepEqual(after.input_schema, schema('the file to delete'));
    assert.equal(after.seen, undefined);
    assert.ok(after.pinned_at > before.pinned_at);
    assert.deepEqual(Object.keys(pins().servers.mutable).sort(), ['count', 'crash', 'mutate', 'probe', 'sleep'], 'other pins kept');
    // The running proxy reads the accepted pin: the call is classified by its own hints and runs.
    assert.ok(client);
    assert.equal(textOf(await client.callTool({ name: 'probe', arguments: { path: 'c' } })), 'probe {"path":"c"}');
    assert.match((await cli('accept', 'mutable', 'probe', '--pins', pinsFile)).stdout, /matches its pin: nothing to accept/);
  });

  test('pins accept of an unknown server or tool is an error with a non-zero exit code', async () => {
    const server = await cli('accept', 'nope', 'probe', '--pins', pinsFile);
    assert.equal(server.code, 5);
    assert.match(server.stderr, /no pins for server "nope" .*; it has pins for "mutable"/);
    const tool = await cli('accept', 'mutable', 'nope', '--pins', pinsFile);
    assert.equal(tool.code, 5);
    assert.match(tool.stderr, /server "mutable" has no pin for a tool "nope"/);
    assert.equal((await cli('forget', 'nope', '--pins', pinsFile)).code, 5);
  });

  test('pins forget removes a pin, and the next use pins the definition the server offers then', async () => {
    const r = await cli('forget', 'mutable', 'probe', '--pins', pinsFile);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /forgot 1 pin\(s\) of "mutable": probe/);
    assert.equal(pins().servers.mutable.probe, undefined);
    // The running proxy still serves the definition it listed; it is pinned again at once.
    assert.ok(client);
    await client.listTools();
    assert.deepEqual(pins().servers.mutable.probe.input_schema, schema('the file to delete'));
    const all = await cli('forget', 'mutable', '--pins', pinsFile);
    assert.match(all.stdout, /forgot 5 pin\(s\)/);
  });
});

describe('MCP pins: the file format', () => {
  const tool = (extra: Partial<Tool> = {}): Tool =>
    ({ name: 'w', description: 'writes', inputSchema: { type: 'object' }, annotations: { readOnlyHint: false }, ...extra }) as Tool;

  test('a version 1 pin adopts the current schema on first check without flagging a change, and is written back as version 2', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'pins.json');
      const v1 = { description: 'writes', annotations: { readOnlyHint: false } };
      const fingerprint = sha256Hex(canonicalJson(v1));
      writeFileSync(file, JSON.stringify({ version: 1, servers: { s: { w: { ...v1, fingerprint, pinned_at: 'then' } } } }));
      const store = PinStore.open(file);
      assert.deepEqual(store.check('s', tool({ inputSchema: { type: 'object', properties: { a: {} } } }), new Date(1)), { changed: false });
      const written = JSON.parse(readFileSync(file, 'utf8'));
      assert.equal(written.version, 2);
      assert.deepEqual(written.servers.s.w.input_schema, { type: 'object', properties: { a: {} } });
      assert.equal(written.servers.s.w.output_schema, null);
      assert.equal(written.servers.s.w.pinned_at, 'then', 'still the first pin');
      const later = PinStore.open(file).check('s', tool({ inputSchema: { type: 'object', properties: { b: {} } } }), new Date(2));
      assert.deepEqual(later.changed && later.fields, ['input_schema']);
    } finally {
      tmp.cleanup();
    }
  });

  test('a version 1 pin whose text changed is flagged, and no schema is adopted for it', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'pins.json');
      const v1 = { description: 'reads', annotations: null };
      writeFileSync(file, JSON.stringify({ version: 1, servers: { s: { w: { ...v1, fingerprint: '0'.repeat(64), pinned_at: 't' } } } }));
      const check = PinStore.open(file).check('s', tool({ annotations: undefined }), new Date(1));
      assert.deepEqual(check.changed && check.fields, ['description']);
      const entry = JSON.parse(readFileSync(file, 'utf8')).servers.s.w;
      assert.equal(entry.input_schema, undefined);
      assert.equal(entry.seen.description, 'writes', 'the definition met is recorded for an operator');
    } finally {
      tmp.cleanup();
    }
  });

  test('an output schema is pinned too', () => {
    const tmp = tempDir();
    try {
      const store = PinStore.open(join(tmp.dir, 'pins.json'));
      const out = (type: string) => tool({ outputSchema: { type: 'object', properties: { n: { type } } } } as Partial<Tool>);
      assert.deepEqual(store.check('s', out('number'), new Date(0)), { changed: false });
      const check = store.check('s', out('string'), new Date(1));
      assert.deepEqual(check.changed && check.fields, ['output_schema']);
      const dropped = store.check('s', tool(), new Date(2));
      assert.deepEqual(dropped.changed && dropped.fields, ['output_schema'], 'an output schema that went away is a change too');
    } finally {
      tmp.cleanup();
    }
  });

  test('a pin file from a newer version is refused, naming the reason', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'pins.json');
      writeFileSync(file, JSON.stringify({ version: 3, servers: {} }));
      assert.throws(() => PinStore.open(file), /version 3 pin file, written by a newer Countersign/);
    } finally {
      tmp.cleanup();
    }
  });
});
