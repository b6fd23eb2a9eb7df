/*
 * The MCP Inspector CLI (@modelcontextprotocol/inspector --cli) as the client, as documented in
 * docs/mcp-proxy.md: over stdio (the Inspector spawns the proxy) and over Streamable HTTP with
 * the bearer token as a header.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CLI_MAIN, REPO_ROOT, review, type World, world } from './helpers.js';
import { FS_SERVER, type ListeningProxy, proxyEnv, startListening, tempDir, waitForAction, writeConfig } from './mcp-helpers.js';

const INSPECTOR = resolve(REPO_ROOT, 'node_modules/.bin/mcp-inspector');
const TOKEN = 'inspector-token-0123456789';
const run = promisify(execFile);

describe('MCP Inspector CLI through the proxy', () => {
  let w: World;
  let listening: ListeningProxy;
  let config: string;
  const tmp = tempDir();

  /** `mcp-inspector --cli ARGS --format json`, returning the parsed result. */
  // biome-ignore lint/suspicious/noExplicitAny: the Inspector's JSON output; the assertions check its shape
  async function inspector(args: string[]): Promise<any> {
    const { stdout } = await run(process.execPath, [INSPECTOR, '--cli', '--format', 'json', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp.dir },
    });
    return JSON.parse(stdout).result;
  }

  /** The Inspector's own flags, then `--` and the command that starts the proxy (what the docs show with npx). */
  const overStdio = (method: string[]) => [
    ...method,
    '-e',
    `COUNTERSIGN_URL=${w.gw.url}`,
    '-e',
    `COUNTERSIGN_AGENT_KEY=${w.keys.agent}`,
    '--',
    process.execPath,
    CLI_MAIN,
    'mcp',
    'proxy',
    '--config',
    config,
  ];

  before(async () => {
    w = await world('sqlite', { listen: true });
    writeFileSync(join(tmp.dir, 'hi.txt'), 'inspector says hi');
    config = writeConfig(tmp.dir, {
      servers: [{ name: 'fs', command: process.execPath, args: [FS_SERVER, tmp.dir] }],
      pins_file: join(tmp.dir, 'pins.json'),
    });
    listening = await startListening(['--config', config], proxyEnv(w, { COUNTERSIGN_MCP_TOKEN: TOKEN }));
  });

  after(async () => {
    await listening?.stop();
    await w?.close();
    tmp.cleanup();
  });

  test('stdio: lists the tools', async () => {
    const { tools } = await inspector(overStdio(['--method', 'tools/list']));
    const names = tools.map((t: { name: string }) => t.name);
    assert.ok(names.includes('read_text_file') && names.includes('write_file') && names.includes('countersign_wait'), names.join(' '));
  });

  test('stdio: a held write_file completes once approved while the Inspector waits', async () => {
    const file = join(tmp.dir, 'from-inspector.txt');
    const result = inspector(
      overStdio([
        '--method',
        'tools/call',
        '--tool-name',
        'write_file',
        '--tool-arg',
        `path=${file}`,
        '--tool-arg',
        'content=approved via inspector',
      ]),
    );
    const action = await waitForAction(w, 'write_file', 'pending', 20_000);
    await review(w, action.id, w.keys.alice, { decision: 'approve' });
    const r = await result;
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(readFileSync(file, 'utf8'), 'approved via inspector');
  });

  test('Streamable HTTP with the bearer token: calls a tool', async () => {
    const r = await inspector([
      '--method',
      'tools/call',
      '--tool-name',
      'read_text_file',
      '--tool-arg',
      `path=${join(tmp.dir, 'hi.txt')}`,
      '--transport',
      'http',
      '--server-url',
      listening.url.href,
      '--header',
      `Authorization: Bearer ${TOKEN}`,
    ]);
    assert.equal(r.content[0].text, 'inspector says hi');
  });
});
