/** Shared pieces of the pass-through tests (mcp-passthrough*.test.ts). */
// biome-ignore-all lint/suspicious/noExplicitAny: SDK errors and resource contents; the tests assert their shape
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { REPO_ROOT } from './helpers.js';
import { sleep } from './mcp-helpers.js';

export const EVERYTHING = resolve(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const CONTEXT_SERVER = resolve(REPO_ROOT, 'packages/countersign/test/fixtures/mcp-context-server.ts');
export const FEATURES = 'demo://resource/static/document/features.md';
export const GZIP = 'gzip-file-as-resource';
export const TOGGLE_UPDATES = 'toggle-subscriber-updates';
// Both only add a session resource or start update notices; read-only enough to run without a review here.
const EVERYTHING_TOOLS = { [GZIP]: { annotations: { readOnlyHint: true } }, [TOGGLE_UPDATES]: { annotations: { readOnlyHint: true } } };

export function everything(name: string): Record<string, unknown> {
  return { name, command: process.execPath, args: [EVERYTHING, 'stdio'], tools: EVERYTHING_TOOLS };
}

export function textOfContents(r: { contents: unknown[] }): string {
  return r.contents.map((c: any) => c.text ?? `[blob ${c.mimeType}]`).join('\n');
}

/** The MCP error a rejected request carries. */
export async function mcpError(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e: any) {
    return { code: e.code, message: e.message };
  }
  assert.fail('expected an MCP error');
}

export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}
