/* The MCP proxy's pure parts: naming, settings, config, pins, progress, call identity, hints, errors. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Tool } from '@modelcontextprotocol/client';
import pino from 'pino';
import { ConfigFileSchema } from '../src/config/schema.js';
import { ERROR_CODES, isCsError } from '../src/lib/errors.js';
import { CallRegistry, MAX_OPEN_PER_SCOPE } from '../src/mcp/call-registry.js';
import { assignNames, Catalogue } from '../src/mcp/catalogue.js';
import { effectiveHints, SPEC_DEFAULT_HINTS, toProposal } from '../src/mcp/classify.js';
import { explainForModel } from '../src/mcp/errors.js';
import { bearerMatches } from '../src/mcp/http-listener.js';
import type { Ask } from '../src/mcp/passthrough-ask.js';
import { PinStore } from '../src/mcp/pins.js';
import { ProgressReporter } from '../src/mcp/progress.js';
import { ResourceSubscriptions } from '../src/mcp/resource-subscriptions.js';
import { approvers, reviewUrl } from '../src/mcp/results.js';
import { guessName, resolveProxySettings, type UpstreamSpec } from '../src/mcp/settings.js';
import type { Upstream } from '../src/mcp/upstream.js';
import { REPO_ROOT } from './helpers.js';
import { tempDir, until } from './mcp-helpers.js';

const ENV = { COUNTERSIGN_AGENT_KEY: 'cs_agent' };

function throwsInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => isCsError(e) && e.code === 'invalid_request' && message.test(e.message));
}

describe('tool names', () => {
  test('names stay as the upstream spells them; a name taken earlier, or reserved, gets the server prefix', () => {
    const names = assignNames(
      [
        { server: 'fs', tools: ['read', 'write', 'countersign_status'] },
        { server: 'git', tools: ['read', 'log'] },
        { server: 'fs2', tools: ['read', 'git__read'] },
      ],
      new Set(['countersign_status']),
    );
    assert.deepEqual(Object.fromEntries(names.get('fs') ?? []), {
      read: 'read',
      write: 'write',
      countersign_status: 'fs__countersign_status',
    });
    assert.deepEqual(Object.fromEntries(names.get('git') ?? []), { read: 'git__read', log: 'log' });
    // git came first, so its prefixed name stands; fs2's own tool of that name is the one prefixed.
    assert.deepEqual(Object.fromEntries(names.get('fs2') ?? []), { read: 'fs2__read', git__read: 'fs2__git__read' });
  });

  test('adding a server never renames the tools of the servers before it', () => {
    const before = assignNames([{ server: 'a', tools: ['x', 'y'] }], new Set());
    const after = assignNames(
      [
        { server: 'a', tools: ['x', 'y'] },
        { server: 'b', tools: ['x'] },
      ],
      new Set(),
    );
    assert.deepEqual([...(before.get('a') ?? [])], [...(after.get('a') ?? [])]);
    assert.equal(after.get('b')?.get('x'), 'b__x');
  });

  test('default upstream names come from the package or script, not the runner', () => {
    assert.equal(guessName('npx', ['-y', '@modelcontextprotocol/server-memory@2026.8.31']), 'server-memory');
    assert.equal(guessName('node', ['/x/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/tmp']), 'server-filesystem');
    assert.equal(guessName('/usr/local/bin/mcp-server-git', ['--repo', '.']), 'mcp-server-git');
    assert.equal(guessName('uvx', ['mcp-server-fetch']), 'mcp-server-fetch');
  });
});

describe('proxy settings', () => {
  const cli = { command: ['node', 'server.js'] };

  test('defaults: 45 s hold, 10 min with progress, 10 s ticks, input_required on, gateway from COUNTERSIGN_URL', () => {
    const s = resolveProxySettings(undefined, { ...ENV, COUNTERSIGN_URL: 'http://gw:1/' }, cli, '/w');
    assert.deepEqual(s.hold, { budgetMs: 45_000, progressBudgetMs: 600_000, progressIntervalMs: 10_000, inputRequired: true });
    assert.equal(s.gateway.url, 'http://gw:1');
    assert.equal(s.reviewUrl, 'http://gw:1/actions/{id}');
    assert.equal(s.upstreams[0]?.name, 'server');
    assert.equal(s.listen, undefined);
    assert.equal(s.pinsFile, join(homedir(), '.countersign', 'mcp-pins.json'));
    assert.equal(resolveProxySettings({ pins_file: '~/p.json' }, ENV, cli, '/w').pinsFile, join(homedir(), 'p.json'));
  });

  test('flags win over the environment, which wins over the file', () => {
    const file = { gateway_url: 'http://file:1', agent_key: 'from-file', pins_file: 'pins.json' };
    const s = resolveProxySettings(
      file,
      { COUNTERSIGN_URL: 'http://env:1', COUNTERSIGN_AGENT_KEY: 'from-env' },
      { ...cli, gatewayUrl: 'http://flag:1' },
      '/w',
    );
    assert.equal(s.gateway.url, 'http://flag:1');
    assert.equal(s.gateway.agentKey, 'from-env');
    assert.equal(s.pinsFile, '/w/pins.json');
    assert.equal(resolveProxySettings(file, {}, cli, '/w').gateway.agentKey, 'from-file');
  });

  test('an upstream on the command line replaces the configured servers', () => {
    const file = { servers: [{ name: 'a', command: 'x' }] };
    assert.deepEqual(
      resolveProxySettings(file, ENV, { ...cli, name: 'mine' }, '/w').upstreams.map((u) => u.name),
      ['mine'],
    );
    assert.deepEqual(
      resolveProxySettings(file, ENV, {}, '/w').upstreams.map((u) => u.name),
      ['a'],
    );
  });

  test('refuses what cannot work, naming it', () => {
    throwsInvalid(() => resolveProxySettings(undefined, {}, cli, '/w'), /COUNTERSIGN_AGENT_KEY/);
    throwsInvalid(() => resolveProxySettings(undefined, ENV, {}, '/w'), /no upstream MCP server/);
    throwsInvalid(() => resolveProxySettings(undefined, ENV, { ...cli, upstreamUrl: 'http://u' }, '/w'), /not both/);
    throwsInvalid(() => resolveProxySettings(undefined, ENV, { upstreamUrl: 'ftp://u' }, '/w'), /must be http/);
    throwsInvalid(() => resolveProxySettings(undefined, ENV, { ...cli, headers: ['a: b'] }, '/w'), /--header applies/);
    throwsInvalid(() => resolveProxySettings(undefined, ENV, { upstreamUrl: 'http://u', headers: ['no colon'] }, '/w'), /Name: value/);
    throwsInvalid(() => resolveProxySettings(undefined, ENV, { ...cli, name: 'has space' }, '/w'), /upstream name/);
    throwsInvalid(() => resolveProxySettings(undefined, ENV, { ...cli, listen: '8711' }, '/w'), /COUNTERSIGN_MCP_TOKEN/);
    throwsInvalid(() => resolveProxySettings(undefined, { ...ENV, COUNTERSIGN_MCP_TOKEN: 'short' }, { ...cli, listen: '1' }, '/w'), /16/);
    throwsInvalid(() => resolveProxySettings(undefined, ENV, { ...cli, listen: 'http' }, '/w'), /port number/);
    throwsInvalid(() => resolveProxySettings({ hold: { progress_interval: 10 } }, ENV, cli, '/w'), /progress_interval/);
  });

  test('the mcp section of the config file is strict', () => {
    const ok = ConfigFileSchema.safeParse({
      mcp: {
        servers: [{ name: 'fs', command: 'npx', args: ['x'], tools: { write_file: { annotations: { readOnlyHint: false } } } }],
        hold: { budget: '30s', progress_budget: '15m', progress_interval: '5s', input_required: false },
        listen: { port: 8711, token: 'x'.repeat(16) },
      },
    });
    assert.equal(ok.success, true, JSON.stringify(ok.error?.issues));
    assert.equal(ok.data?.mcp?.hold?.budget, 30_000);
    const bad = (mcp: unknown) => ConfigFileSchema.safeParse({ mcp }).success;
    assert.equal(bad({ servers: [{ name: 'x' }] }), false, 'neither command nor url');
    assert.equal(bad({ servers: [{ name: 'x', command: 'a', url: 'http://u' }] }), false, 'both');
    assert.equal(bad({ servers: [{ name: 'x', url: 'http://u', args: ['a'] }] }), false, 'args with a url');
    assert.equal(
      bad({
        servers: [
          { name: 'x', command: 'a' },
          { name: 'x', command: 'b' },
        ],
      }),
      false,
      'duplicate names',
    );
    assert.equal(bad({ servers: [{ name: 'x', command: 'a', annotations: { readOnly: true } }] }), false, 'unknown hint');
    assert.equal(bad({ review_url: 'https://r.example/actions' }), false, 'review_url without {id}');
    assert.equal(bad({ surprise: 1 }), false, 'unknown key');
  });
});

describe('classification hints', () => {
  const tool = (annotations?: Record<string, unknown>): Tool =>
    ({ name: 't', inputSchema: { type: 'object' }, ...(annotations ? { annotations } : {}) }) as Tool;
  const spec = (extra: Partial<UpstreamSpec> = {}): UpstreamSpec =>
    ({ name: 's', kind: 'stdio', command: 'x', args: [], env: {}, cwd: undefined, annotations: {}, tools: {}, ...extra }) as UpstreamSpec;

  test('an unannotated tool gets the MCP spec defaults: not read-only, destructive', () => {
    assert.deepEqual(effectiveHints(spec(), tool(), { changed: false }), SPEC_DEFAULT_HINTS);
  });

  test('operator per-tool over per-server over upstream; non-boolean upstream values are ignored', () => {
    const s = spec({ annotations: { readOnlyHint: false, openWorldHint: false }, tools: { t: { readOnlyHint: true } } });
    const h = effectiveHints(s, tool({ readOnlyHint: 'yes', destructiveHint: false, idempotentHint: true }), { changed: false });
    assert.deepEqual(h, { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
  });

  test('a changed pin forces the defaults, whatever the upstream or the operator says', () => {
    const s = spec({ tools: { t: { readOnlyHint: true } } });
    const pin = {
      changed: true as const,
      fields: ['annotations' as const],
      pinned: { fingerprint: '0'.repeat(64), description: null, annotations: null, pinned_at: '' },
    };
    assert.deepEqual(effectiveHints(s, tool({ readOnlyHint: true }), pin), SPEC_DEFAULT_HINTS);
  });
});

describe('pins', () => {
  const t = (description: string, annotations?: Record<string, unknown>): Tool =>
    ({ name: 'w', description, inputSchema: { type: 'object' }, ...(annotations ? { annotations } : {}) }) as Tool;

  test('first sight pins; the same definition passes; a changed one says what changed; pins survive reopening', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'sub', 'pins.json');
      const pins = PinStore.open(file);
      assert.deepEqual(pins.check('s', t('writes', { readOnlyHint: false }), new Date(0)), { changed: false });
      assert.deepEqual(pins.check('s', t('writes', { readOnlyHint: false }), new Date(1)), { changed: false });
      const reopened = PinStore.open(file);
      const changed = reopened.check('s', t('reads only', { readOnlyHint: true }), new Date(2));
      assert.equal(changed.changed, true);
      assert.deepEqual(changed.changed && changed.fields, ['description', 'annotations']);
      assert.equal(changed.changed && changed.pinned.description, 'writes');
      assert.equal(JSON.parse(readFileSync(file, 'utf8')).servers.s.w.description, 'writes', 'a change never re-pins');
    } finally {
      tmp.cleanup();
    }
  });

  test('two proxies sharing a file keep each other’s pins', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'pins.json');
      const a = PinStore.open(file);
      const b = PinStore.open(file);
      a.check('s1', t('one'), new Date(0));
      b.check('s2', t('two'), new Date(0));
      const servers = JSON.parse(readFileSync(file, 'utf8')).servers;
      assert.deepEqual(Object.keys(servers).sort(), ['s1', 's2']);
    } finally {
      tmp.cleanup();
    }
  });

  test('a new tool whose pin cannot be written is held for review, and the tools pinned before keep their hints', () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'pins');
      mkdirSync(dir);
      const pins = PinStore.open(join(dir, 'pins.json'));
      const reads = { ...t('reads', { readOnlyHint: true }), name: 'r' } as Tool;
      const writes = { ...t('writes', { readOnlyHint: true }), name: 'w' } as Tool;
      const spec = { name: 's', kind: 'stdio', command: 'x', args: [], env: {}, annotations: {}, tools: {} } as unknown as UpstreamSpec;
      const upstream = { name: 's', spec, currentTools: [reads] } as unknown as Upstream;
      const warnings: string[] = [];
      Catalogue.build([upstream], pins, new Set(), new Date(0), (w) => warnings.push(w));
      // The directory becomes a file: every later read or write of the pin file fails, even as root.
      rmSync(dir, { recursive: true });
      writeFileSync(dir, '');
      (upstream as unknown as { currentTools: Tool[] }).currentTools = [reads, writes];
      const catalogue = Catalogue.build([upstream], pins, new Set(), new Date(1), (w) => warnings.push(w));
      assert.equal(catalogue.lookup('r')?.hints.readOnlyHint, true);
      const held = catalogue.lookup('w');
      assert.ok(held);
      assert.deepEqual(held.hints, SPEC_DEFAULT_HINTS, 'its own readOnlyHint is not trusted');
      assert.match(warnings.join('\n'), /s\/w: cannot read the MCP pin file .*held for review/);
      const mcp = toProposal(held, {}, 'session').metadata?.mcp as Record<string, unknown>;
      assert.match(String(mcp.definition_unpinned), /cannot read the MCP pin file/);
    } finally {
      tmp.cleanup();
    }
  });

  test('a file that is not a pin file is refused, not overwritten', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'pins.json');
      writeFileSync(file, '{"something": "else"}');
      assert.throws(() => PinStore.open(file), /not a Countersign MCP pin file/);
      assert.equal(readFileSync(file, 'utf8'), '{"something": "else"}');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('progress', () => {
  test('values only increase; the upstream phase continues after the wait', async () => {
    const sent: Record<string, unknown>[] = [];
    const p = new ProgressReporter(
      'tok',
      async (n) => void sent.push(n.params),
      () => undefined,
    );
    p.waiting(0, 600, 'waiting');
    p.waiting(10, 600, 'waiting');
    p.waiting(10, 600, 'same value: dropped');
    p.forward({ progress: 0, total: 3, message: 'step 0' });
    p.forward({ progress: 2, message: 'step 2' });
    p.forward({ progress: 1, message: 'backwards: dropped' });
    assert.deepEqual(
      sent.map((s) => [s.progress, s.total, s.message]),
      [
        [0, 600, 'waiting'],
        [10, 600, 'waiting'],
        [11, 14, 'step 0'],
        [13, undefined, 'step 2'],
      ],
    );
    assert.ok(sent.every((s) => s.progressToken === 'tok'));
  });
});

describe('call identity', () => {
  test('identical means same scope, server, tool and canonically equal arguments', () => {
    const r = new CallRegistry();
    const k = r.callKey('s1', 'fs', 'write', { a: 1, b: { c: [1, 2] } });
    assert.equal(r.callKey('s1', 'fs', 'write', { b: { c: [1, 2] }, a: 1 }), k);
    assert.notEqual(r.callKey('s2', 'fs', 'write', { a: 1, b: { c: [1, 2] } }), k);
    assert.notEqual(r.callKey('s1', 'fs2', 'write', { a: 1, b: { c: [1, 2] } }), k);
    assert.notEqual(r.callKey('s1', 'fs', 'write', { a: 1, b: { c: [2, 1] } }), k);
  });

  test('idempotency keys are printable, bounded and new for every proposal', () => {
    const r = new CallRegistry();
    const key = r.callKey('s', 'fs', 'w', {});
    const [a, b] = [r.newIdempotencyKey(key), r.newIdempotencyKey(key)];
    assert.notEqual(a, b);
    for (const k of [a, b]) assert.match(k, /^[\x21-\x7e]{1,255}$/);
  });

  test('an open call is found until settled; a scope beyond its bound gives up its oldest', () => {
    const r = new CallRegistry();
    r.track('k0', 's', 'a0');
    assert.equal(r.find('k0')?.actionId, 'a0');
    r.settle('k0', 'other');
    assert.equal(r.find('k0')?.actionId, 'a0', 'only its own action settles it');
    let evicted: string[] = [];
    for (let i = 1; i <= MAX_OPEN_PER_SCOPE; i++) evicted = r.track(`k${i}`, 's', `a${i}`).evicted.map((c) => c.actionId);
    assert.deepEqual(evicted, ['a0']);
    assert.equal(r.drainScope('s').length, MAX_OPEN_PER_SCOPE);
    assert.equal(r.find('k1'), undefined);
  });
});

describe('what the model reads', () => {
  test('every domain error code has an explanation for the model', () => {
    for (const code of ERROR_CODES) assert.ok(explainForModel(code).length > 10, code);
  });

  test('approvers are named from the current workflow stage', () => {
    const a = (approvers_: Record<string, unknown> | null) =>
      ({ workflow: approvers_ ? { stage: { approvers: approvers_ } } : null }) as unknown as Parameters<typeof approvers>[0];
    assert.equal(approvers(a(null)), 'a reviewer');
    assert.equal(approvers(a({ users: ['ann@x'], groups: ['sre'], roles: [], owner: true })), "ann@x or group sre or the agent's owner");
    assert.equal(
      approvers(a({ users: ['1', '2', '3', '4', '5', '6', '7'], groups: [], roles: [], owner: false })),
      '1 or 2 or 3 or 4 or 5 (+2 more)',
    );
    assert.equal(reviewUrl('https://r.example/a/{id}?x={id}', 'a b'), 'https://r.example/a/a%20b?x=a%20b');
  });

  test('bearer tokens compare exactly', () => {
    assert.equal(bearerMatches('Bearer secret-token', 'secret-token'), true);
    assert.equal(bearerMatches('bearer secret-token', 'secret-token'), true);
    assert.equal(bearerMatches('Bearer secret-token2', 'secret-token'), false);
    assert.equal(bearerMatches('Bearer ', 'secret-token'), false);
    assert.equal(bearerMatches(undefined, 'secret-token'), false);
    assert.equal(bearerMatches('secret-token', 'secret-token'), false);
  });
});

describe('resource subscriptions', () => {
  test('a subscription whose renewal failed after a reconnection is tried again by the next session to subscribe', async () => {
    const calls: string[] = [];
    let failNext = false;
    const ask = (async (_u: unknown, method: string) => {
      calls.push(method);
      if (failNext) {
        failNext = false;
        throw new Error('the upstream is not answering');
      }
    }) as unknown as Ask;
    const upstream = { name: 's', capabilities: { resources: { subscribe: true } } } as unknown as Upstream;
    const subs = new ResourceSubscriptions(ask, pino({ level: 'silent' }));
    const sink = async () => undefined;
    await subs.subscribe(upstream, 'x://a', 'one', sink);
    failNext = true;
    subs.renew(upstream);
    await new Promise((r) => setImmediate(r));
    await subs.subscribe(upstream, 'x://a', 'two', sink);
    assert.deepEqual(calls, ['resources/subscribe', 'resources/subscribe', 'resources/subscribe']);
    await subs.subscribe(upstream, 'x://a', 'three', sink);
    assert.equal(calls.length, 3, 'renewed now: shared again, no further subscribe');
  });
});

describe('pin file writers', () => {
  test('three processes pinning at once into one file lose none of each other’s pins', async () => {
    const N = 150;
    const SERVERS = ['a', 'b', 'c'];
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'pins.json');
      const go = join(tmp.dir, 'go');
      const pinsModule = pathToFileURL(join(REPO_ROOT, 'packages/countersign/src/mcp/pins.ts')).href;
      // Each writer loads, says it is ready, and waits for the others, so their writes overlap.
      const writer = (server: string) => `
        const { existsSync, writeFileSync } = await import('node:fs');
        const { PinStore } = await import(${JSON.stringify(pinsModule)});
        const store = PinStore.open(${JSON.stringify(file)});
        writeFileSync(${JSON.stringify(join(tmp.dir, 'ready-'))} + ${JSON.stringify(server)}, '');
        while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
        for (let i = 0; i < ${N}; i++) store.check(${JSON.stringify(server)}, { name: 't' + i, inputSchema: { type: 'object' } }, new Date());`;
      const run = (server: string) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer(server)], { stdio: 'inherit' });
        return once(child, 'exit').then(([code]) => assert.equal(code, 0));
      };
      const done = Promise.all(SERVERS.map(run));
      await until(() => SERVERS.every((s) => existsSync(join(tmp.dir, `ready-${s}`))), 20_000);
      writeFileSync(go, '');
      await done;
      const servers = JSON.parse(readFileSync(file, 'utf8')).servers;
      for (const s of SERVERS) assert.equal(Object.keys(servers[s] ?? {}).length, N, `every pin of server ${s}`);
    } finally {
      tmp.cleanup();
    }
  });
});
