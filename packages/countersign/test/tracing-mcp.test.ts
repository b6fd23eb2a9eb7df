/*
 * Trace propagation through `countersign mcp proxy`: an MCP client that puts its W3C trace context in a
 * tools/call's `_meta` (the MCP convention) sees the gateway's spans for that call in its own trace. The
 * proxy is the built CLI over stdio in front of the real @modelcontextprotocol/server-memory; the gateway
 * records spans with the OpenTelemetry SDK's in-memory exporter. Storage plays no part here, so one dialect.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type World, world } from './helpers.js';
import { actionsOf, connectStdio, MEMORY_SERVER, proxyEnv, tempDir, waitForStatus, writeConfig } from './mcp-helpers.js';

const CLIENT_TRACE = '5b8aa5a2d2c872e8321cf37308d69df2';
const CLIENT_SPAN = '051581bf3cb55c13';

describe('the MCP proxy passes on the trace context of a tools/call', () => {
  let w: World;
  let client: Client;
  const tmp = tempDir();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  before(async () => {
    w = await world('sqlite', { listen: true, trustAnnotationsOf: ['deployer'], tracerProvider: provider });
    const config = writeConfig(tmp.dir, {
      servers: [
        { name: 'memory', command: process.execPath, args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: join(tmp.dir, 'memory.jsonl') } },
      ],
    });
    client = await connectStdio(['--config', config], proxyEnv(w));
  });

  after(async () => {
    await client?.close();
    await w?.close();
    await provider.shutdown();
    tmp.cleanup();
  });

  test("a call's _meta traceparent parents the proposal and the result at the gateway", async () => {
    const r = await client.callTool({
      name: 'read_graph',
      arguments: {},
      _meta: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'client=1' },
    });
    assert.notEqual(r.isError, true);
    const [listed] = await actionsOf(w, 'read_graph');
    await waitForStatus(w, listed.id, 'executed');
    const spans = exporter.getFinishedSpans();
    for (const name of ['countersign.propose', 'countersign.result']) {
      const span = spans.find((s) => s.name === name);
      assert.ok(span, `${name} recorded (got ${spans.map((s) => s.name).join(', ')})`);
      assert.equal(span.spanContext().traceId, CLIENT_TRACE, `${name} is in the client's trace`);
      assert.equal(span.parentSpanContext?.spanId, CLIENT_SPAN, `${name} is a child of the client's span`);
    }
    const row = await w.gw.deps.db.read.selectFrom('actions').select(['tracestate']).where('id', '=', listed.id).executeTakeFirst();
    assert.equal(row?.tracestate, 'client=1', 'the tracestate travelled with it');
  });

  test('a call with a malformed traceparent still runs, in a trace of its own', async () => {
    exporter.reset();
    const r = await client.callTool({ name: 'read_graph', arguments: {}, _meta: { traceparent: 'not-a-traceparent' } });
    assert.notEqual(r.isError, true);
    const proposal = exporter.getFinishedSpans().find((s) => s.name === 'countersign.propose');
    assert.ok(proposal);
    assert.notEqual(proposal.spanContext().traceId, CLIENT_TRACE);
    assert.equal(proposal.parentSpanContext, undefined);
  });
});
