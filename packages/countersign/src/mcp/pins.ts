import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Tool } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '../lib/canonical.js';
import { CsError } from '../lib/errors.js';

/**
 * Trust on first use for tool definitions. Annotations and descriptions are hints the upstream
 * server controls; a server that was read-only yesterday can claim anything today (a "rug pull").
 * The first definition seen for each (server, tool) is pinned in a file, so the pin survives the
 * proxy's restarts (a stdio proxy restarts with every host session); a later definition that
 * differs sends every call of that tool to review until an operator removes the pin.
 */
const PinnedSchema = z.strictObject({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  description: z.string().nullable(),
  annotations: z.record(z.string(), z.unknown()).nullable(),
  pinned_at: z.string(),
});
export type Pinned = z.infer<typeof PinnedSchema>;

const PinFileSchema = z.strictObject({
  version: z.literal(1),
  servers: z.record(z.string(), z.record(z.string(), PinnedSchema)),
});
type PinFile = z.infer<typeof PinFileSchema>;

export type PinField = 'description' | 'annotations';

export type PinCheck = { changed: false } | { changed: true; fields: PinField[]; pinned: Pinned };

export class PinStore {
  private constructor(
    private readonly file: string,
    private data: PinFile,
  ) {}

  /** Opens (or starts) the pin file. A file that is not a pin file is an error, never silently replaced. */
  static open(file: string): PinStore {
    return new PinStore(file, readPinFile(file));
  }

  /**
   * Compares a tool's current definition with its pin, pinning it when it is new.
   * Throws `unavailable` if a new pin cannot be written: an unrecorded pin would protect nothing.
   */
  check(server: string, tool: Tool, now: Date): PinCheck {
    const current = definitionOf(tool);
    const pinned = this.data.servers[server]?.[tool.name];
    if (pinned === undefined) {
      this.pin(server, tool.name, { ...current, pinned_at: now.toISOString() });
      return { changed: false };
    }
    if (pinned.fingerprint === current.fingerprint) return { changed: false };
    const fields: PinField[] = [];
    if (pinned.description !== current.description) fields.push('description');
    if (canonicalJson(pinned.annotations) !== canonicalJson(current.annotations)) fields.push('annotations');
    return { changed: true, fields, pinned };
  }

  private pin(server: string, tool: string, def: Pinned): void {
    // Another proxy may share the file: merge into what is on disk now, and never overwrite its pins.
    const fresh = readPinFile(this.file);
    const existing = fresh.servers[server]?.[tool];
    fresh.servers[server] = { ...fresh.servers[server], [tool]: existing ?? def };
    writePinFile(this.file, fresh);
    this.data = fresh;
  }
}

/** The pinned part of a definition: what the issue of trust is about (hints and the text the model reads). */
export function definitionOf(tool: Tool): Omit<Pinned, 'pinned_at'> {
  const description = tool.description ?? null;
  const annotations = (tool.annotations as Record<string, unknown> | undefined) ?? null;
  return { description, annotations, fingerprint: sha256Hex(canonicalJson({ annotations, description })) };
}

function readPinFile(file: string): PinFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
    throw new CsError('unavailable', `cannot read the MCP pin file ${file}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = PinFileSchema.safeParse(parsed);
  if (!result.success) throw new CsError('invalid_request', `${file} is not a Countersign MCP pin file; move it away to start over`);
  return result.data;
}

function writePinFile(file: string, data: PinFile): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    throw new CsError('unavailable', `cannot write the MCP pin file ${file}: ${(e as Error).message}`);
  }
}
